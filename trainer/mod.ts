// Public face of the trainer part: the model, its optimizer and the TF.js backend choice.
// Other parts (cli, controller) import only this file; each sub-area keeps its own mod.ts.
export * from './backend.js';
export * from './model/mod.js';
export * from './optim/mod.js';
export * from './run/mod.js';
export * from './data/mod.js';
export * from './tokenizer/mod.js';
export * from './generate/mod.js';
