// The layers of ARCHITECTURE.md, checked by `npm run lint`: data flows one way
// (cli → commands → lifecycle → steps / lint / syntax / reporters → drivers →
// config / transport → secrets / errors), and each rule names the arrow it forbids.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'errors-is-the-bottom',
      severity: 'error',
      comment: 'Every layer throws these errors; they import nothing of ours.',
      from: { path: '^src/errors[.]ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'secrets-is-the-bottom',
      severity: 'error',
      comment: 'Masking is used by transport, state and reporters alike; it imports nothing of ours.',
      from: { path: '^src/secrets/' },
      to: { path: '^src/', pathNot: '^src/secrets/' },
    },
    {
      name: 'config-imports-nothing-above-it',
      severity: 'error',
      comment: 'The scenario model is read by every layer; it may use only errors and secrets.',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: ['^src/config/', '^src/errors[.]ts$', '^src/secrets/'] },
    },
    {
      name: 'transport-imports-nothing-above-it',
      severity: 'error',
      comment: 'SSH to a node knows nothing of scenarios, drivers or steps.',
      from: { path: '^src/transport/' },
      to: { path: '^src/', pathNot: ['^src/transport/', '^src/errors[.]ts$', '^src/secrets/'] },
    },
    {
      name: 'no-driver-imports-another-driver',
      severity: 'error',
      comment: 'What drivers share lives in src/drivers/host/ (or types.ts, ready.ts), never in another driver.',
      from: { path: '^src/drivers/([^/]+)/' },
      to: { path: '^src/drivers/[^/]+/', pathNot: ['^src/drivers/$1/', '^src/drivers/host/'] },
    },
    {
      name: 'steps-see-drivers-only-through-the-contract',
      severity: 'error',
      comment: 'A step works on any driver: it may know the driver contract, not the registry or a driver.',
      from: { path: '^src/steps/' },
      to: { path: '^src/drivers/', pathNot: '^src/drivers/types[.]ts$' },
    },
    {
      name: 'drivers-do-not-import-upwards',
      severity: 'error',
      comment: 'A driver makes nodes; it does not know steps, lint, the lifecycle or the commands.',
      from: { path: '^src/drivers/' },
      to: { path: '^src/(steps|lint|syntax|reporters|lifecycle|commands)/|^src/cli[.]ts$' },
    },
    {
      name: 'only-the-cli-imports-commands',
      severity: 'error',
      comment: 'Commands are the top: the CLI loads them, nothing else does.',
      from: { path: '^src/', pathNot: ['^src/cli[.]ts$', '^src/commands/'] },
      to: { path: '^src/commands/' },
    },
    {
      name: 'lifecycle-is-used-only-by-commands',
      severity: 'error',
      comment: 'Steps, lint, syntax and reporters run inside the lifecycle; they do not drive it.',
      from: { path: '^src/(config|transport|secrets|drivers|steps|lint|syntax|reporters)/' },
      to: { path: '^src/lifecycle/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]test[.]ts$' },
    // Type-only imports count: a cycle through types still ties two modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
    reporterOptions: {
      dot: { collapsePattern: '^src/[^/]+/|^node_modules/[^/]+' },
    },
  },
};
