// Makes this example's `generated.csv` with `ablate data generate`, offline: a scripted stand-in
// for an LLM (test/support/openai-server.ts) turns each grounding passage, a fact sentence from
// ../science-exam/data/corpus.txt, into a question. A real run points --endpoint at a real model;
// everything else (few-shot sampling, checks, dedupe against the study's data, option balance,
// the provenance sidecar) is the same code path.
//
//   npx tsx examples/generated-data/make-generated.ts
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ablateCommand } from '../../common/mod.js';
import { completion, startOpenAiServer, type ChatCall, type ScriptedReply } from '../../test/support/openai-server.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const corpus = readFileSync(here('../science-exam/data/corpus.txt'), 'utf8').split('\n');

/** Fact shapes the stand-in knows how to ask about; the passages file keeps only these lines. */
const SHAPES: { re: RegExp; ask: (m: RegExpExecArray) => { prompt: string; answer: string; pool: string[] } }[] = [
  {
    re: /^([A-Z][a-z]+) has atomic number (\d+)\.$/,
    ask: (m) => {
      const n = Number(m[2]);
      const near = [n - 2, n - 1, n + 1, n + 2, n + 3, n + 4].filter((k) => k > 0);
      // Phrased as the demo's own questions are, so the dedupe against train.csv has work to do.
      return { prompt: `What is the atomic number of ${m[1]?.toLowerCase()}?`, answer: String(n), pool: near.map(String) };
    },
  },
  {
    re: /^The chemical symbol for ([a-z]+) is ([A-Za-z]+)\.$/,
    ask: (m) => ({
      prompt: `Chemists write which symbol for ${m[1]}?`,
      answer: m[2] ?? '',
      pool: corpus.map((l) => /^The chemical symbol for [a-z]+ is ([A-Za-z]+)\.$/.exec(l)?.[1]).filter((s): s is string => s !== undefined),
    }),
  },
  {
    re: /^By its diet the ([a-z]+) is an? ([a-z]+)\.$/,
    ask: (m) => ({ prompt: `Judged by what it eats, how is the ${m[1]} classified?`, answer: m[2] ?? '', pool: ['herbivore', 'carnivore', 'omnivore', 'detritivore', 'insectivore'] }),
  },
  {
    re: /^The planet ([a-z]+) is ([a-z]+) from the sun\.$/,
    ask: (m) => ({
      prompt: `Counting outward from the sun, which place in the order of planets does ${m[1]} take?`,
      answer: m[2] ?? '',
      pool: ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'],
    }),
  },
];

/** The stand-in model: a question about the passage, the answer always first (the generator shuffles). */
function standIn(call: ChatCall): ScriptedReply {
  const user = call.body.messages?.at(-1)?.content ?? '';
  const passage = user.split('\n').at(-1) ?? '';
  for (const shape of SHAPES) {
    const m = shape.re.exec(passage);
    if (!m) continue;
    const q = shape.ask(m);
    const wrong = [...new Set(q.pool.filter((p) => p !== q.answer))];
    // Distractors picked by the passage's length, so the stand-in is deterministic.
    const start = passage.length % Math.max(1, wrong.length);
    const four = [...wrong.slice(start), ...wrong.slice(0, start)].slice(0, 4);
    return completion(JSON.stringify({ prompt: q.prompt, A: q.answer, B: four[0], C: four[1], D: four[2], E: four[3], answer: 'A' }), { usage: { prompt_tokens: 180, completion_tokens: 40 } });
  }
  return completion("I'm sorry, I cannot write a question about that passage.");
}

const passages = corpus.filter((l) => SHAPES.some((s) => s.re.test(l)));
writeFileSync(here('passages.txt'), `${passages.join('\n')}\n`);
const server = await startOpenAiServer(standIn);
try {
  for (const f of ['generated.csv', 'generated.jsonl']) rmSync(here(f), { force: true });
  const [cmd, ...base] = ablateCommand();
  const args = [
    'data', 'generate',
    '--endpoint', server.url,
    '--model', 'scripted-stand-in',
    '--examples', here('../science-exam/data/train.csv'),
    '--shots', '3',
    '--context', here('passages.txt'),
    '--dedupe-against', here('../science-exam/data/train.csv'), here('../science-exam/data/validation.csv'),
    '--licence', 'Scripted stand-in for an LLM (test/support/openai-server.ts): no model licence applies. Record the real model licence here.',
    '--n', '40',
    '--seed', '0',
    '--out', here('generated.csv'),
  ];
  const code = await new Promise<number | null>((resolve) => spawn(cmd, [...base, ...args], { stdio: 'inherit' }).on('exit', resolve));
  if (code !== 0) throw new Error(`ablate data generate exited ${String(code)}`);
} finally {
  await server.close();
}
