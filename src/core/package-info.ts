/**
 * The npm package berth ships as. The command is `berth`, but the registry name `berth`
 * belongs to an unrelated package: anything berth writes for users (workflows, hints) names
 * this package, pinned to this exact version, never a bare `npx berth`.
 */
import pkg from '../../package.json' with { type: 'json' };

export const PACKAGE_NAME: string = pkg.name;
export const PACKAGE_VERSION: string = pkg.version;

/**
 * A shell command that runs this exact berth, installed or not: npx uses a matching local
 * install (a devDependency at this version) and otherwise fetches exactly this version.
 */
export function pinnedBerthCommand(name = PACKAGE_NAME, version = PACKAGE_VERSION): string {
  return `npx --yes --package=${name}@${version} -- berth`;
}
