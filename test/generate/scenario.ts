// The scripted generation scenario shared by the generator tests: one passage per case, and a
// server script that answers each generation request according to the case named in its
// passage, and each verification request by finding the question's correct option among the
// options shown (or, for one case, a wrong one).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completion, type ChatCall, type Script, type ScriptedReply } from '../support/openai-server.js';

export interface Row {
  prompt: string;
  A: string;
  B: string;
  C: string;
  D: string;
  E: string;
  answer: string;
}

const row = (prompt: string, options: [string, string, string, string, string], answer = 'A'): Row => ({
  prompt,
  A: options[0],
  B: options[1],
  C: options[2],
  D: options[3],
  E: options[4],
  answer,
});

/** Questions the server hands out, by case. */
export const BANK: Record<string, Row> = {
  'good-1': row('Which planet in our solar system has the most prominent ring system?', ['Saturn', 'Mercury', 'Venus', 'Mars', 'Neptune']),
  'good-2': row('What is the chemical symbol for the element sodium?', ['Na', 'So', 'Sd', 'S', 'N']),
  'good-3': row('Which organelle is the main site of aerobic respiration in eukaryotic cells?', ['Mitochondrion', 'Ribosome', 'Golgi apparatus', 'Lysosome', 'Nucleus'], 'A'),
  'rate-limit-once': row('What type of bond holds the two strands of a DNA double helix together?', ['Ionic bonds', 'Hydrogen bonds', 'Metallic bonds', 'Peptide bonds', 'Disulfide bridges'], 'B'),
  'slow-once': row('Which force keeps the Moon in orbit around our planet?', ['Magnetism', 'Friction', 'Gravity', 'Buoyancy', 'Tension'], 'C'),
  'good-4': row('At sea level, at what temperature in degrees Celsius does pure water boil?', ['0', '50', '212', '100', '373'], 'D'),
  'good-5': row("Which gas makes up the largest share of Earth's atmosphere by volume?", ['Oxygen', 'Argon', 'Carbon dioxide', 'Hydrogen', 'Nitrogen'], 'E'),
  'verify-disagree': row('Which scientist proposed the three laws of motion?', ['Isaac Newton', 'Galileo Galilei', 'Johannes Kepler', 'Albert Einstein', 'Niels Bohr']),
  'dup-of-good-1': row('Which planet in our Solar System has the MOST prominent ring-system?', ['Saturn', 'Jupiter', 'Uranus', 'Mars', 'Earth']),
  'ref-dup': row('Which blood cells carry oxygen around the human body ?', ['Platelets', 'Red blood cells', 'White blood cells', 'Plasma cells', 'Stem cells'], 'B'),
  'wrong-letter': row('Which pigment absorbs light for photosynthesis in plants?', ['Chlorophyll', 'Melanin', 'Haemoglobin', 'Keratin', 'Carotene'], 'F'),
  giveaway: row('Which metal, copper, is the most common conductor used in household wiring?', ['Copper', 'Iron', 'Lead', 'Tin', 'Zinc']),
  'options-dup': row('Which element do humans need to breathe to stay alive?', ['Oxygen', 'Helium', 'oxygen', 'Neon', 'Xenon']),
  'too-long': row(`${'Consider a long experimental description. '.repeat(60)}What is measured?`, ['Mass', 'Length', 'Time', 'Charge', 'Volume']),
};

/** The question of the dedupe-against file that `ref-dup` nearly repeats. */
export const REFERENCE_CSV = [
  'id,prompt,A,B,C,D,E,answer',
  'r1,Which blood cells carry oxygen around the human body?,Red blood cells,White blood cells,Platelets,Plasma cells,Stem cells,A',
  'r2,What is the SI unit of electric current?,Ampere,Volt,Ohm,Watt,Coulomb,A',
  '',
].join('\n');

/** Few-shot examples. */
export const EXAMPLES_CSV = [
  'id,prompt,A,B,C,D,E,answer',
  'e1,What kind of animal is the horse?,amphibian,arachnid,mammal,reptile,bird,C',
  'e2,At room temperature bromine is found as a what?,solid,plasma,gel,gas,liquid,E',
  'e3,Which particle carries a negative charge?,electron,proton,neutron,photon,nucleus,A',
  'e4,What is the hardest natural mineral?,talc,quartz,diamond,gypsum,calcite,C',
  '',
].join('\n');

/** One passage per request, in request order; the final one is good so the run ends on it. */
export const CASES = [
  'good-1',
  'malformed',
  'good-2',
  'dup-of-good-1',
  'wrong-letter',
  'rate-limit-once',
  'refusal',
  'truncated',
  'ref-dup',
  'good-3-fenced',
  'always-503',
  'always-slow',
  'slow-once',
  'verify-disagree',
  'giveaway',
  'options-dup',
  'too-long',
  'missing-field',
  'good-4',
  'refusal-text',
  'good-5',
] as const;

/** The reason each rejected case must be recorded with. */
export const EXPECTED_REASON: Record<string, string> = {
  malformed: 'malformed-json',
  'dup-of-good-1': 'near-duplicate',
  'wrong-letter': 'answer-letter-invalid',
  refusal: 'refusal',
  truncated: 'truncated',
  'ref-dup': 'near-duplicate',
  'always-503': 'server-error',
  'always-slow': 'timeout',
  'verify-disagree': 'verify-disagreed',
  giveaway: 'answer-in-prompt',
  'options-dup': 'options-invalid',
  'too-long': 'length-out-of-bounds',
  'missing-field': 'malformed-question',
  'refusal-text': 'refusal',
};

/** The bank question each accepted case hands out. */
export const ACCEPTED_ROW: Record<string, Row> = {
  'good-1': BANK['good-1'] as Row,
  'good-2': BANK['good-2'] as Row,
  'rate-limit-once': BANK['rate-limit-once'] as Row,
  'good-3-fenced': BANK['good-3'] as Row,
  'slow-once': BANK['slow-once'] as Row,
  'good-4': BANK['good-4'] as Row,
  'good-5': BANK['good-5'] as Row,
};

/**
 * Request timeout the tests pass (`--request-timeout-s`), and the delay of slow replies. A second,
 * not less: on a loaded two-core runner a short timeout can expire before a request even arrives.
 */
export const TIMEOUT_S = 1;
const SLOW_MS = 3000;

export interface ScenarioState {
  attempts: Map<string, number>;
  /** Generation requests answered before the server starts holding replies. */
  holdAfter: number;
  generationCalls: number;
}

export function newState(): ScenarioState {
  return { attempts: new Map(), holdAfter: Infinity, generationCalls: 0 };
}

/** Writes the input files into `dir`; returns their paths. */
export function writeInputs(dir: string): { examples: string; context: string; reference: string } {
  const examples = join(dir, 'examples.csv');
  const context = join(dir, 'passages.jsonl');
  const reference = join(dir, 'reference.csv');
  writeFileSync(examples, EXAMPLES_CSV);
  writeFileSync(reference, REFERENCE_CSV);
  writeFileSync(context, CASES.map((c, i) => JSON.stringify({ id: `p${i}`, text: `case:${c} A passage of science facts.` })).join('\n') + '\n');
  return { examples, context, reference };
}

const json = (r: Row) => JSON.stringify(r);

function lastUser(call: ChatCall): string {
  const msgs = call.body.messages ?? [];
  return [...msgs].reverse().find((m) => m.role === 'user')?.content ?? '';
}

function verifyReply(call: ChatCall): ScriptedReply {
  const [prompt = '', ...optionLines] = lastUser(call).split('\n');
  const entry = Object.entries(BANK).find(([, r]) => r.prompt === prompt);
  if (!entry) return completion('{"answer": "Z"}');
  const [name, r] = entry;
  const correct = r[r.answer as 'A'];
  const shown = optionLines.map((l) => ({ letter: l.slice(0, 1), text: l.slice(3) }));
  const pick = name === 'verify-disagree' ? shown.find((s) => s.text !== correct) : shown.find((s) => s.text === correct);
  return completion(JSON.stringify({ answer: pick?.letter ?? 'Z' }), { usage: { prompt_tokens: 7, completion_tokens: 3 } });
}

/** The server script of the scenario; `state` counts attempts per case. */
export function scenarioScript(state: ScenarioState): Script {
  return (call) => {
    const system = call.body.messages?.[0]?.content ?? '';
    if (system.startsWith('Answer the multiple-choice question')) return verifyReply(call);
    const c = /case:(\S+)/.exec(lastUser(call))?.[1] ?? 'unknown';
    if (++state.generationCalls > state.holdAfter) return { kind: 'hold' };
    const attempt = (state.attempts.get(c) ?? 0) + 1;
    state.attempts.set(c, attempt);
    const bank = BANK[c];
    switch (c) {
      case 'malformed':
        return completion('{"prompt": "What is two plus two?", "A": "4", ');
      case 'rate-limit-once':
        return attempt === 1 ? { kind: 'http', status: 429, headers: { 'retry-after': '1' } } : completion(json(bank as Row));
      case 'slow-once':
        return completion(json(bank as Row), attempt === 1 ? { delayMs: SLOW_MS } : {});
      case 'always-slow':
        return completion(json(BANK['good-1'] as Row), { delayMs: SLOW_MS });
      case 'always-503':
        // A careless server that echoes the request's credentials: they must not reach any file.
        return { kind: 'http', status: 503, body: `overloaded; you sent ${String(call.headers['authorization'])}` };
      case 'refusal':
        return completion('', { refusal: "I can't help with that." });
      case 'refusal-text':
        return completion("I'm sorry, but I can't help with that request.");
      case 'truncated':
        return completion('{"prompt": "Which of the following best describes', { finishReason: 'length' });
      case 'good-3-fenced':
        return completion(`Here is a new question:\n\`\`\`json\n${json(BANK['good-3'] as Row)}\n\`\`\`\n`);
      case 'missing-field': {
        const { E: _e, ...partial } = BANK['good-2'] as Row;
        return completion(JSON.stringify({ ...partial, prompt: 'Which noble gas is used in bright advertising signs?' }));
      }
      default:
        return bank ? completion(json(bank)) : { kind: 'http', status: 500, body: `no such case ${c}` };
    }
  };
}
