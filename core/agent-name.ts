/**
 * What an agent may be called: the rule shared by the agents an agent module defines (checked
 * when it loads) and the agent a task is submitted to.
 */
export const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/** {@link AGENT_NAME} in words, for error messages. */
export const AGENT_NAME_RULE = '1 to 100 letters, digits, _ . : - (starting with a letter or digit)';
