/**
 * A scenario's name is one plain directory name: letters, digits, `_`, `.` and
 * `-`, and not `.` or `..`, so `scenarios/<name>/` and `.swarm-molecule/<name>/`
 * stay inside the project.
 */
export function isScenarioName(text: string): boolean {
  return /^[\w.-]+$/.test(text) && text !== '.' && text !== '..';
}
