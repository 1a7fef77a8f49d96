// Child process of the atomic-save test: loads the model in argv[2] and saves it to argv[3] over
// and over, printing "saved N" after each complete save, until it is killed.
import { DebertaForMultipleChoice, saveModel, selectBackend } from '../../trainer/mod.js';

const [source, out] = process.argv.slice(2);
if (source === undefined || out === undefined) throw new Error('usage: save-child.ts SOURCE_MODEL OUT_DIR');
await selectBackend('cpu');
const model = await DebertaForMultipleChoice.load(source);
const info = { job: 'kill-test', ablation: 'full', seed: 0, maxLength: 40, evalBatchSize: 6, backend: 'cpu', validationSha256: '0'.repeat(64) };
for (let n = 1; ; n++) {
  await saveModel(model, source, out, { ...info, seed: n });
  process.stdout.write(`saved ${n}\n`);
}
