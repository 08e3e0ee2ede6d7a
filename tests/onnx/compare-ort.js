#!/usr/bin/env node
// Runs an ONNX model exported by nnc in ONNX Runtime (onnxruntime-node) on
// images of an IDX file and compares its outputs with nnc's.
//
//   node compare-ort.js MODEL.onnx IMAGES.idx COUNT EXPECTED.npy [RTOL]
//
// The first COUNT images become x/255 floats, as nnc feeds them; EXPECTED
// holds nnc's outputs for them (nnc --predict ... -o EXPECTED.npy). Prints
// the largest difference relative to each row's largest output, the
// largest element-wise relative difference, and how many argmax classes
// differ; exits 1 when a row's relative difference exceeds RTOL (1e-5).
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
  // Installed by scripts/bootstrap.sh beside this script.
  try {
    return require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    return require('onnxruntime-node');
  }
}

function readIdxImages(file, count) {
  const data = fs.readFileSync(file);
  if (data[0] !== 0 || data[1] !== 0 || data[2] !== 8 || data[3] !== 3)
    throw new Error(`${file}: not an IDX file of unsigned-byte images`);
  const n = data.readUInt32BE(4), h = data.readUInt32BE(8), w = data.readUInt32BE(12);
  if (count > n) throw new Error(`${file} has ${n} images, not ${count}`);
  const x = new Float32Array(count * h * w);
  for (let i = 0; i < x.length; ++i) x[i] = data[16 + i] / 255;
  return { x, h, w };
}

function readNpy(file) {
  const data = fs.readFileSync(file);
  if (data.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const length = data.readUInt16LE(8);
  const header = data.toString('latin1', 10, 10 + length);
  if (!header.includes("'descr': '<f4'")) throw new Error(`${file}: not float32: ${header}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const body = data.subarray(10 + length);
  const values = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return { shape, values };
}

function argmax(row) {
  let best = 0;
  for (let j = 1; j < row.length; ++j) if (row[j] > row[best]) best = j;
  return best;
}

async function main() {
  const [modelPath, imagesPath, countArg, expectedPath, rtolArg] = process.argv.slice(2);
  if (!expectedPath) {
    console.error('usage: compare-ort.js MODEL.onnx IMAGES.idx COUNT EXPECTED.npy [RTOL]');
    process.exit(2);
  }
  const count = Number(countArg), rtol = Number(rtolArg || 1e-5);
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  const inputName = session.inputNames[0], outputName = session.outputNames[0];
  const { x, h, w } = readIdxImages(imagesPath, count);
  const expected = readNpy(expectedPath);
  const perRow = expected.values.length / expected.shape[0];
  if (expected.shape[0] !== count) throw new Error(`${expectedPath} has ${expected.shape[0]} rows, not ${count}`);

  // The input's shape without the batch, and the batch: symbolic ("batch")
  // runs every image at once, a fixed one in padded chunks.
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const dims = meta && meta.shape ? meta.shape : ['batch', h, w];
  const fixed = typeof dims[0] === 'number' ? dims[0] : count;
  const rest = dims.slice(1).map(Number);
  const pixels = h * w;
  const got = new Float32Array(count * perRow);
  for (let begin = 0; begin < count; begin += fixed) {
    const rows = Math.min(fixed, count - begin);
    const chunk = new Float32Array(fixed * pixels);
    chunk.set(x.subarray(begin * pixels, (begin + rows) * pixels));
    const feeds = { [inputName]: new ort.Tensor('float32', chunk, [fixed, ...rest]) };
    const out = (await session.run(feeds))[outputName];
    got.set(out.data.subarray(0, rows * perRow), begin * perRow);
  }

  let worstRow = 0, worstElement = 0, classesDiffer = 0;
  for (let i = 0; i < count; ++i) {
    const a = got.subarray(i * perRow, (i + 1) * perRow);
    const b = expected.values.subarray(i * perRow, (i + 1) * perRow);
    let scale = 0;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < perRow; ++j) {
      const d = Math.abs(a[j] - b[j]);
      worstRow = Math.max(worstRow, d / Math.max(scale, 1e-30));
      worstElement = Math.max(worstElement, d / Math.max(Math.abs(a[j]), Math.abs(b[j]), 1e-30));
    }
    if (argmax(a) !== argmax(b)) ++classesDiffer;
  }
  console.log(`onnxruntime ${ort.env.versions ? ort.env.versions.node : ''}: ${count} examples, ` +
              `batch ${typeof dims[0] === 'number' ? dims[0] : 'symbolic'}, ` +
              `max difference relative to the row ${worstRow.toExponential(2)}, ` +
              `max element-wise relative difference ${worstElement.toExponential(2)}, ` +
              `${classesDiffer} classes differ`);
  if (worstRow > rtol) {
    console.error(`error: outputs differ by ${worstRow.toExponential(2)} relative, more than ${rtol}`);
    process.exit(1);
  }
}

main().catch(e => { console.error(`error: ${e.message}`); process.exit(1); });
