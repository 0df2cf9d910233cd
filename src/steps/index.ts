export * from './api.js';
export { AssertionFailed, expectThat } from './assert.js';
export { builtinSteps } from './builtin/index.js';
export { resolveStep, isModuleReference, StepLoadError } from './loader.js';
