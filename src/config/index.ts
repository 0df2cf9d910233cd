export * from './types.js';
export { loadScenario, listScenarios, ScenarioInvalid } from './load.js';
export { DEFAULT_SEQUENCES } from './schema.js';
export { scenarioJsonSchema, SCENARIO_JSON_SCHEMA_PATH } from './jsonschema.js';
export { isManager, isWorker, LEADER_GROUP, MANAGER_GROUP, WORKER_GROUP } from './roles.js';
export { isScenarioName } from './scenario-name.js';
export { checkRegularFile, readBoundedFile, STEP_MODULE_LIMIT } from './read.js';
