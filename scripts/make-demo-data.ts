// Makes the demo dataset of examples/science-exam/: a synthetic science exam in the Kaggle "LLM
// Science Exam" format (id,prompt,A,B,C,D,E,answer) plus a plain-text corpus of the same facts for
// masked-LM pretraining and the word list a word-level tokenizer needs.
//
//   npx tsx scripts/make-demo-data.ts [--out DIR] [--seed N]
//
// Deterministic: the same seed gives the same bytes (a seeded PRNG, no clock, no locale). The
// committed files are this script's output with the defaults; a test regenerates and compares.
//
// Why the data looks like this (see examples/science-exam/README.md): every question asks one
// fact from small tables (elements, planets and moons, SI units, animals, organs, organelles,
// scientists, qualitative physics). Facts are split three ways, so a tiny model has something to
// learn and ablations have room to differ:
//   - "core" facts are asked in train and validation (different wording or distractors),
//   - "corpus-only" facts appear in corpus.txt and validation, never in train — only a model that
//     was pretrained on the corpus can know them,
//   - "held-out" facts appear only in validation — answerable at best by elimination.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';

/** @default 0 */
export const DEFAULT_DEMO_SEED = 0;
/** Questions in train.csv (a multiple of 5, so the answer letters balance exactly). @default 1500 */
export const DEFAULT_TRAIN_QUESTIONS = 1500;
/** Questions in validation.csv (a multiple of 5). @default 400 */
export const DEFAULT_VALIDATION_QUESTIONS = 400;
/** Where the committed files live, relative to the repository root. */
export const DEFAULT_DEMO_DIR = 'examples/science-exam/data';

/** Share of validation questions per fact split: core, corpus-only, held-out. */
const VALIDATION_MIX = { core: 0.6, corpusOnly: 0.25, heldOut: 0.15 } as const;
/** Share of facts per split; the rest of each relation's facts are core. */
const FACT_SPLIT = { corpusOnly: 0.2, heldOut: 0.1 } as const;
const LETTERS = ['A', 'B', 'C', 'D', 'E'] as const;

export interface DemoDataOptions {
  /** @default DEFAULT_DEMO_SEED */
  seed?: number;
  /** @default DEFAULT_TRAIN_QUESTIONS */
  trainQuestions?: number;
  /** @default DEFAULT_VALIDATION_QUESTIONS */
  validationQuestions?: number;
}

export interface Question {
  prompt: string;
  options: [string, string, string, string, string];
  answer: (typeof LETTERS)[number];
}

/** The files, by name, as the bytes to write. */
export interface DemoData {
  'train.csv': string;
  'validation.csv': string;
  'corpus.txt': string;
  'vocab.txt': string;
}

// ---------------------------------------------------------------------------------------------
// Randomness: mulberry32, a 32-bit generator that is tiny, fast and identical on every platform.

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  const x = xs[Math.floor(rng() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fact tables. A relation maps entities to values; `forward` templates ask for the value of an
// entity ({e}), `backward` templates ask which entity has a value ({v}) and exist only where that
// question has one right answer. `extraValues` are plausible wrong answers that no entity has, so
// relations with few values still yield five distinct options. `sentences` state the fact in the
// corpus.

interface Relation {
  name: string;
  facts: Array<[entity: string, value: string]>;
  forward: string[];
  backward: string[];
  sentences: string[];
  extraValues?: string[];
}

function rows(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) => line.trim().split('|').map((c) => c.trim()));
}

const ELEMENTS = rows(`
hydrogen|H|1|nonmetal|gas
helium|He|2|noble gas|gas
lithium|Li|3|alkali metal|solid
beryllium|Be|4|alkaline earth metal|solid
boron|B|5|metalloid|solid
carbon|C|6|nonmetal|solid
nitrogen|N|7|nonmetal|gas
oxygen|O|8|nonmetal|gas
fluorine|F|9|halogen|gas
neon|Ne|10|noble gas|gas
sodium|Na|11|alkali metal|solid
magnesium|Mg|12|alkaline earth metal|solid
aluminium|Al|13|post transition metal|solid
silicon|Si|14|metalloid|solid
phosphorus|P|15|nonmetal|solid
sulfur|S|16|nonmetal|solid
chlorine|Cl|17|halogen|gas
argon|Ar|18|noble gas|gas
potassium|K|19|alkali metal|solid
calcium|Ca|20|alkaline earth metal|solid
scandium|Sc|21|transition metal|solid
titanium|Ti|22|transition metal|solid
vanadium|V|23|transition metal|solid
chromium|Cr|24|transition metal|solid
manganese|Mn|25|transition metal|solid
iron|Fe|26|transition metal|solid
cobalt|Co|27|transition metal|solid
nickel|Ni|28|transition metal|solid
copper|Cu|29|transition metal|solid
zinc|Zn|30|transition metal|solid
gallium|Ga|31|post transition metal|solid
germanium|Ge|32|metalloid|solid
arsenic|As|33|metalloid|solid
selenium|Se|34|nonmetal|solid
bromine|Br|35|halogen|liquid
krypton|Kr|36|noble gas|gas
silver|Ag|47|transition metal|solid
tin|Sn|50|post transition metal|solid
iodine|I|53|halogen|solid
xenon|Xe|54|noble gas|gas
tungsten|W|74|transition metal|solid
platinum|Pt|78|transition metal|solid
gold|Au|79|transition metal|solid
mercury|Hg|80|transition metal|liquid
lead|Pb|82|post transition metal|solid
uranium|U|92|actinide|solid
`);

const PLANETS = rows(`
mercury|first|rocky planet
venus|second|rocky planet
earth|third|rocky planet
mars|fourth|rocky planet
jupiter|fifth|gas giant
saturn|sixth|gas giant
uranus|seventh|ice giant
neptune|eighth|ice giant
`);

const MOONS = rows(`
phobos|mars
deimos|mars
io|jupiter
europa|jupiter
ganymede|jupiter
callisto|jupiter
titan|saturn
enceladus|saturn
mimas|saturn
rhea|saturn
iapetus|saturn
titania|uranus
oberon|uranus
miranda|uranus
ariel|uranus
triton|neptune
nereid|neptune
`);

const UNITS = rows(`
force|newton|N
energy|joule|J
power|watt|W
pressure|pascal|Pa
electric charge|coulomb|C
electric current|ampere|A
electrical resistance|ohm|ohm
frequency|hertz|Hz
temperature|kelvin|K
mass|kilogram|kg
length|metre|m
time|second|s
voltage|volt|V
capacitance|farad|F
inductance|henry|H
magnetic flux|weber|Wb
luminous intensity|candela|cd
amount of substance|mole|mol
radioactivity|becquerel|Bq
`);

const ANIMALS = rows(`
lion|mammal|carnivore
tiger|mammal|carnivore
wolf|mammal|carnivore
cow|mammal|herbivore
horse|mammal|herbivore
rabbit|mammal|herbivore
elephant|mammal|herbivore
giraffe|mammal|herbivore
bear|mammal|omnivore
pig|mammal|omnivore
whale|mammal|carnivore
bat|mammal|omnivore
dolphin|mammal|carnivore
eagle|bird|carnivore
owl|bird|carnivore
sparrow|bird|omnivore
penguin|bird|carnivore
parrot|bird|herbivore
ostrich|bird|omnivore
pigeon|bird|herbivore
crocodile|reptile|carnivore
snake|reptile|carnivore
lizard|reptile|omnivore
tortoise|reptile|herbivore
iguana|reptile|herbivore
frog|amphibian|carnivore
toad|amphibian|carnivore
salamander|amphibian|carnivore
newt|amphibian|carnivore
shark|fish|carnivore
salmon|fish|carnivore
trout|fish|carnivore
carp|fish|omnivore
tuna|fish|carnivore
bee|insect|herbivore
ant|insect|omnivore
beetle|insect|omnivore
butterfly|insect|herbivore
grasshopper|insect|herbivore
mosquito|insect|herbivore
spider|arachnid|carnivore
scorpion|arachnid|carnivore
tick|arachnid|carnivore
`);

const ORGANS = rows(`
heart|pumps blood around the body|circulatory system
lungs|exchange oxygen and carbon dioxide|respiratory system
kidneys|filter waste from the blood|excretory system
stomach|breaks down food with acid|digestive system
small intestine|absorbs nutrients from food|digestive system
liver|makes bile and stores glycogen|digestive system
brain|processes signals from the nerves|nervous system
skin|protects the body from germs|integumentary system
bones|support the body and make blood cells|skeletal system
muscles|move the bones by contracting|muscular system
pancreas|releases insulin into the blood|endocrine system
bladder|stores urine|excretory system
`);

const ORGANELLES = rows(`
nucleus|holds the genetic material of the cell
mitochondrion|releases energy by respiration
chloroplast|carries out photosynthesis
ribosome|makes proteins
cell membrane|controls what enters and leaves the cell
cell wall|gives a plant cell a rigid shape
vacuole|stores water and dissolved substances
golgi apparatus|packages proteins for export
lysosome|breaks down waste with enzymes
cytoplasm|is where most chemical reactions happen
`);

const SCIENTISTS = rows(`
isaac newton|the laws of motion
charles darwin|evolution by natural selection
gregor mendel|the laws of heredity
marie curie|radioactivity
albert einstein|the theory of relativity
michael faraday|electromagnetic induction
louis pasteur|germ theory and pasteurization
johannes kepler|the laws of planetary motion
edwin hubble|the expansion of the universe
dmitri mendeleev|the periodic table
alexander fleming|penicillin
james watson|the double helix of dna
nicolaus copernicus|the heliocentric model
robert hooke|the cell
alfred wegener|continental drift
`);

// Qualitative physics: for quantity = a * b (or a / b), what happens to the quantity when one
// input grows and the other stays the same. Learnable as a pattern over the formula's words.
const FORMULAS = rows(`
force|mass|acceleration|times
speed|distance|time|per
power|work done|time|per
voltage|current|resistance|times
density|mass|volume|per
pressure|force|area|per
momentum|mass|velocity|times
kinetic energy|mass|speed squared|times
weight|mass|gravitational field strength|times
current|charge|time|per
`);

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function relations(): Relation[] {
  const el = (i: number) => ELEMENTS.map((r) => [r[0], r[i]] as [string, string]);
  const physics: Array<[string, string]> = [];
  for (const [q, a, b, op] of FORMULAS as Array<[string, string, string, string]>) {
    const when = (x: string, dir: string, y: string) => `${q} when ${x} ${dir} and ${y} stays the same`;
    physics.push([when(a, 'increases', b), 'increases']);
    physics.push([when(b, 'increases', a), op === 'times' ? 'increases' : 'decreases']);
    physics.push([when(a, 'decreases', b), 'decreases']);
    physics.push([when(b, 'decreases', a), op === 'times' ? 'decreases' : 'increases']);
  }
  return [
    {
      name: 'element-symbol',
      facts: el(1),
      forward: ['What is the chemical symbol for {e}?', 'Which symbol represents the element {e}?', 'The element {e} is written with which symbol?'],
      backward: ['Which element has the chemical symbol {v}?', 'The symbol {v} stands for which element?'],
      sentences: ['The chemical symbol for {e} is {v}.', '{E} is written as {v} in the periodic table.'],
    },
    {
      name: 'element-number',
      facts: el(2),
      forward: ['What is the atomic number of {e}?', 'How many protons does an atom of {e} have?'],
      backward: ['Which element has atomic number {v}?', 'An atom with {v} protons is an atom of which element?'],
      sentences: ['{E} has atomic number {v}.', 'An atom of {e} has {v} protons.'],
    },
    {
      name: 'element-group',
      facts: el(3),
      forward: ['Which group of the periodic table does {e} belong to?', 'What kind of element is {e}?'],
      backward: ['Which of these elements is a {v}?'],
      sentences: ['{E} is a {v}.', 'In the periodic table {e} is classed as a {v}.'],
      extraValues: ['lanthanide'],
    },
    {
      name: 'element-state',
      facts: el(4),
      forward: ['What is the state of {e} at room temperature?', 'At room temperature {e} is found as a what?'],
      backward: ['Which of these elements is a {v} at room temperature?'],
      sentences: ['At room temperature {e} is a {v}.', '{E} is a {v} at room temperature.'],
      extraValues: ['plasma', 'gel'],
    },
    {
      name: 'planet-order',
      facts: PLANETS.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['Counting from the sun, where is the planet {e}?', 'What is the position of {e} in order from the sun?'],
      backward: ['Which planet is {v} from the sun?'],
      sentences: ['The planet {e} is {v} from the sun.', '{E} is the {v} planet from the sun.'],
    },
    {
      name: 'planet-type',
      facts: PLANETS.map((r) => [r[0], r[2]] as [string, string]),
      forward: ['What type of planet is {e}?', 'The planet {e} is best described as a what?'],
      backward: ['Which of these planets is a {v}?'],
      sentences: ['The planet {e} is a {v}.', '{E} is one of the planets that is a {v}.'],
      extraValues: ['dwarf planet', 'comet', 'asteroid'],
    },
    {
      name: 'moon-planet',
      facts: MOONS.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['{E} is a moon of which planet?', 'Which planet does the moon {e} orbit?'],
      backward: ['Which of these is a moon of {v}?'],
      sentences: ['{E} is a moon of {v}.', 'The moon {e} orbits {v}.'],
      extraValues: ['mercury', 'venus'],
    },
    {
      name: 'unit-quantity',
      facts: UNITS.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['What is the SI unit of {e}?', 'In which unit is {e} measured?'],
      backward: ['Which quantity is measured in the {v}?', 'The {v} is the SI unit of which quantity?'],
      sentences: ['The SI unit of {e} is the {v}.', '{E} is measured in the {v}.'],
    },
    {
      name: 'unit-symbol',
      facts: UNITS.map((r) => [r[1], r[2]] as [string, string]),
      forward: ['What is the symbol for the {e}?', 'Which symbol is used for the unit {e}?'],
      backward: ['Which unit has the symbol {v}?'],
      sentences: ['The symbol for the {e} is {v}.', 'The unit {e} is written {v}.'],
    },
    {
      name: 'animal-class',
      facts: ANIMALS.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['What kind of animal is the {e}?', 'To which class of animals does the {e} belong?'],
      backward: ['Which of these animals is a {v}?'],
      sentences: ['The {e} is a {v}.', 'A {e} belongs to the {v} class.'],
    },
    {
      name: 'animal-diet',
      facts: ANIMALS.map((r) => [r[0], r[2]] as [string, string]),
      forward: ['What does the diet of the {e} make it?', 'Based on what it eats, the {e} is a what?'],
      backward: ['Which of these animals is a {v}?'],
      sentences: ['The {e} is a {v}.', 'By its diet the {e} is a {v}.'],
      extraValues: ['detritivore', 'insectivore'],
    },
    {
      name: 'organ-function',
      facts: ORGANS.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['What is the main job of the {e}?', 'What is the role of the {e} in the human body?'],
      backward: ['Which organ has this job: {v}?'],
      sentences: ['The {e} {v}.', 'In the human body the {e} {v}.'],
    },
    {
      name: 'organ-system',
      facts: ORGANS.map((r) => [r[0], r[2]] as [string, string]),
      forward: ['Which organ system do the {e} belong to?', 'Which body system includes the {e}?'],
      backward: [],
      sentences: ['The {e} are part of the {v}.', 'The {v} includes the {e}.'],
      extraValues: ['lymphatic system', 'reproductive system'],
    },
    {
      name: 'organelle-function',
      facts: ORGANELLES.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['What does the {e} do in a cell?', 'What is the role of the {e}?'],
      backward: ['Which part of a cell {v}?'],
      sentences: ['The {e} {v}.', 'In a cell the {e} {v}.'],
    },
    {
      name: 'scientist-discovery',
      facts: SCIENTISTS.map((r) => [r[0], r[1]] as [string, string]),
      forward: ['What is {e} best known for?', 'Which idea or discovery is {e} known for?'],
      backward: ['Who is best known for {v}?'],
      sentences: ['{E} is best known for {v}.', 'We owe {v} to {e}.'],
    },
    {
      name: 'physics-change',
      facts: physics,
      forward: ['What happens to {e}?', 'Which change happens to {e}?'],
      backward: [],
      sentences: ['{E} {v}.', 'The answer is that {e} {v}.'],
      extraValues: ['stays the same', 'becomes zero', 'reverses direction'],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Question building.

type Split = 'core' | 'corpusOnly' | 'heldOut';

interface Fact {
  relation: Relation;
  entity: string;
  value: string;
  split: Split;
}

function fill(template: string, entity: string, value: string): string {
  const s = template.replaceAll('{e}', entity).replaceAll('{E}', cap(entity)).replaceAll('{v}', value);
  // English article before a vowel ("an insect"); the tables avoid words where the sound differs.
  return cap(s.replace(/\b([Aa]) (?=[aeiou])/g, '$1n '));
}

/** Five options (answer first) for one fact, or null when the relation cannot supply four wrong ones. */
function optionsFor(rng: Rng, fact: Fact, backward: boolean): string[] | null {
  const { relation } = fact;
  if (backward) {
    const wrong = [...new Set(relation.facts.filter(([, v]) => v !== fact.value).map(([e]) => e))];
    if (wrong.length < 4) return null;
    return [fact.entity, ...shuffle(rng, wrong).slice(0, 4)];
  }
  const others = relation.facts.filter(([e]) => e !== fact.entity).map(([, v]) => v);
  const wrong = [...new Set([...others, ...(relation.extraValues ?? [])])].filter((v) => v !== fact.value);
  if (wrong.length < 4) return null;
  return [fact.value, ...shuffle(rng, wrong).slice(0, 4)];
}

/** Balanced answer letters: each letter n/5 times, in a shuffled order. */
function balancedLetters(rng: Rng, n: number): Array<(typeof LETTERS)[number]> {
  const letters = Array.from({ length: n }, (_, i) => LETTERS[i % 5] as (typeof LETTERS)[number]);
  return shuffle(rng, letters);
}

function makeQuestion(rng: Rng, fact: Fact, letter: (typeof LETTERS)[number], templates: 'all' | 'forward'): Question | null {
  const canBack = fact.relation.backward.length > 0 && templates === 'all';
  const backward = canBack && rng() < 0.4;
  const opts = optionsFor(rng, fact, backward);
  if (opts === null) return null;
  const template = pick(rng, backward ? fact.relation.backward : fact.relation.forward);
  const prompt = fill(template, fact.entity, fact.value);
  const [right, ...wrong] = opts as [string, ...string[]];
  const at = LETTERS.indexOf(letter);
  const order = shuffle(rng, wrong);
  order.splice(at, 0, right);
  return { prompt, options: order as Question['options'], answer: letter };
}

function questionKey(q: Question): string {
  return `${q.prompt}|${[...q.options].sort().join('|')}`;
}

function buildQuestions(rng: Rng, pool: Fact[][], weights: number[], n: number, seen: Set<string>): Question[] {
  const letters = balancedLetters(rng, n);
  const out: Question[] = [];
  for (let i = 0; i < n; i++) {
    const letter = letters[i] as (typeof LETTERS)[number];
    // Choose a split by weight, then a fact uniformly; retry on duplicates (bounded: pools are large).
    for (let attempt = 0; attempt < 200; attempt++) {
      let r = rng();
      let s = 0;
      while (s < weights.length - 1 && r >= (weights[s] as number)) r -= weights[s++] as number;
      const fact = pick(rng, pool[s] as Fact[]);
      const q = makeQuestion(rng, fact, letter, 'all');
      if (q === null || seen.has(questionKey(q))) continue;
      seen.add(questionKey(q));
      out.push(q);
      break;
    }
    if (out.length !== i + 1) throw new Error(`make-demo-data: could not make question ${i} without repeating one`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output formats.

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function toCsv(qs: Question[]): string {
  const lines = ['id,prompt,A,B,C,D,E,answer'];
  qs.forEach((q, i) => lines.push([String(i), q.prompt, ...q.options, q.answer].map(csvField).join(',')));
  return `${lines.join('\n')}\n`;
}

/** The word-level tokenization the vocabulary plan proposes: lower-case [a-z0-9]+ runs and ?.,; */
export function demoTokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+|[?.,]/g) ?? [];
}

function vocabulary(texts: string[]): string {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of demoTokens(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return `${words.map(([w, c]) => `${w}\t${c}`).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------

/** Builds every demo file in memory; pure and deterministic in its options. */
export function makeDemoData(options: DemoDataOptions = {}): DemoData {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const nTrain = options.trainQuestions ?? DEFAULT_TRAIN_QUESTIONS;
  const nVal = options.validationQuestions ?? DEFAULT_VALIDATION_QUESTIONS;
  for (const [field, n] of [['trainQuestions', nTrain], ['validationQuestions', nVal]] as const) {
    if (!Number.isInteger(n) || n <= 0 || n % 5 !== 0) throw new Error(`make-demo-data: ${field} must be a positive multiple of 5, got ${n}`);
  }
  const rng = mulberry32(seed);

  const facts: Fact[] = [];
  for (const relation of relations()) {
    const fs = shuffle(rng, relation.facts);
    const nHeld = Math.round(fs.length * FACT_SPLIT.heldOut);
    const nCorpus = Math.round(fs.length * FACT_SPLIT.corpusOnly);
    fs.forEach(([entity, value], i) => {
      const split: Split = i < nHeld ? 'heldOut' : i < nHeld + nCorpus ? 'corpusOnly' : 'core';
      facts.push({ relation, entity, value, split });
    });
  }
  const bySplit = (s: Split) => facts.filter((f) => f.split === s);
  const core = bySplit('core');

  const seen = new Set<string>();
  const train = buildQuestions(rng, [core], [1], nTrain, seen);
  const validation = buildQuestions(
    rng,
    [core, bySplit('corpusOnly'), bySplit('heldOut')],
    [VALIDATION_MIX.core, VALIDATION_MIX.corpusOnly, VALIDATION_MIX.heldOut],
    nVal,
    seen,
  );

  const sentences: string[] = [];
  for (const f of facts) {
    if (f.split === 'heldOut') continue;
    for (const t of f.relation.sentences) sentences.push(fill(t, f.entity, f.value));
  }
  const corpus = shuffle(rng, sentences);

  const trainCsv = toCsv(train);
  const valCsv = toCsv(validation);
  const texts = [...train, ...validation].flatMap((q) => [q.prompt, ...q.options]).concat(corpus);
  return {
    'train.csv': trainCsv,
    'validation.csv': valCsv,
    'corpus.txt': `${corpus.join('\n')}\n`,
    'vocab.txt': vocabulary(texts),
  };
}

/** Writes the demo files into `dir` (created if missing); returns the paths written. */
export function writeDemoData(dir: string, options: DemoDataOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const data = makeDemoData(options);
  return (Object.keys(data) as Array<keyof DemoData>).map((name) => {
    const path = join(dir, name);
    writeFileSync(path, data[name]);
    return path;
  });
}

function parseArgs(argv: string[]): { out: string; seed: number } {
  let out = DEFAULT_DEMO_DIR;
  let seed = DEFAULT_DEMO_SEED;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--out' && v !== undefined) {
      out = v;
      i++;
    } else if (a === '--seed' && v !== undefined && /^\d+$/.test(v)) {
      seed = Number(v);
      i++;
    } else throw new Error(`make-demo-data: unknown or incomplete argument '${a}' (usage: --out DIR --seed N)`);
  }
  return { out, seed };
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
if (isEntry) {
  const { out, seed } = parseArgs(process.argv.slice(2));
  for (const p of writeDemoData(resolve(out), { seed })) process.stdout.write(`${p}\n`);
}
