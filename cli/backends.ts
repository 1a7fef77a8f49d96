// The `--backend` choices every command offers: DESIGN.md's list (kept here, not imported from
// the trainer, so `--help` does not load TF.js).
export const BACKEND_CHOICES = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
