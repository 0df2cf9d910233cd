// The layers of ARCHITECTURE.md, checked by `npm run lint`: data flows one way
// (cli → commands → lifecycle → steps / lint / syntax / reporters → drivers →
// config / transport → secrets / errors), and each rule names the arrow it forbids.

/** Modules matching `from` must not import modules matching `to`. */
const forbid = (name, comment, from, to) => ({ name, severity: 'error', comment, from, to });

/** A bottom layer: `layer` imports nothing of ours but itself and the layers `below` it. */
const importsOnly = (name, comment, layer, below) => forbid(name, comment, { path: layer }, { path: '^src/', pathNot: [layer, ...below] });

const ERRORS = '^src/errors[.]ts$';
const SECRETS = '^src/secrets/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    forbid('no-circular', 'A cycle makes two modules one: neither can be read, tested or moved alone.', { path: '^src/' }, { circular: true }),
    importsOnly('errors-is-the-bottom', 'Every layer throws these errors; they import nothing of ours.', ERRORS, []),
    importsOnly('secrets-is-the-bottom', 'Masking is used by transport, state and reporters alike.', SECRETS, []),
    importsOnly('config-imports-nothing-above-it', 'The scenario model is read by every layer.', '^src/config/', [ERRORS, SECRETS]),
    importsOnly('transport-imports-nothing-above-it', 'SSH to a node knows nothing of scenarios, drivers or steps.', '^src/transport/', [ERRORS, SECRETS]),
    forbid(
      'no-driver-imports-another-driver',
      'What drivers share lives in src/drivers/host/ (or types.ts, ready.ts), never in another driver.',
      { path: '^src/drivers/([^/]+)/' },
      { path: '^src/drivers/[^/]+/', pathNot: ['^src/drivers/$1/', '^src/drivers/host/'] },
    ),
    forbid(
      'steps-see-drivers-only-through-the-contract',
      'A step works on any driver: it may know the driver contract, not the registry or a driver.',
      { path: '^src/steps/' },
      { path: '^src/drivers/', pathNot: '^src/drivers/types[.]ts$' },
    ),
    forbid(
      'drivers-do-not-import-upwards',
      'A driver makes nodes; it does not know steps, lint, the lifecycle or the commands.',
      { path: '^src/drivers/' },
      { path: '^src/(steps|lint|syntax|reporters|lifecycle|commands)/|^src/cli[.]ts$' },
    ),
    forbid('only-the-cli-imports-commands', 'Commands are the top: the CLI loads them.', { path: '^src/', pathNot: ['^src/cli[.]ts$', '^src/commands/'] }, { path: '^src/commands/' }),
    forbid(
      'lifecycle-is-used-only-by-commands',
      'Steps, lint, syntax and reporters run inside the lifecycle; they do not drive it.',
      { path: '^src/(config|transport|secrets|drivers|steps|lint|syntax|reporters)/' },
      { path: '^src/lifecycle/' },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]test[.]ts$' },
    // Type-only imports count: a cycle through types still ties two modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
