// How an option is named in a message: the same check serves spawn() and `trapline run`,
// and each caller reads the option the way it wrote it (options.hook, or --hook).

/**
 * The name of an option in the caller's terms, by its SpawnOptions key ('program' and
 * 'args' for the arguments; 'processEnv' for the inherited environment when options.env
 * is not given). form 'usage': how to give it, e.g. '--stats FILE' or 'options.statsFile',
 * 'options.statsAppend: true' for a boolean.
 */
export type OptionNames = (key: string, form?: 'usage') => string;

const API_BOOLEANS = new Set(['stats', 'statsAppend', 'followExec', 'allowNullReads', 'allowUninterposed']);

/** The API's names: options.mode, options.statsFile, ... */
export const API_NAMES: OptionNames = (key, form) => {
  if (key === 'program' || key === 'args' || key === 'options') return key;
  if (key === 'processEnv') return 'options.env (process.env)';
  return form === 'usage' && API_BOOLEANS.has(key) ? `options.${key}: true` : `options.${key}`;
};
