/**
 * The read* helpers apply the defaults of the option keys every I2C board
 * driver shares (schemas/drivers/i2c.ts declares them for the config check).
 */
export function readInteger(options: Record<string, unknown>, key: string, fallback: number) {
  const value = options[key];
  return typeof value === "number" && Number.isInteger(value) ? value : fallback;
}

export function readGases<G extends string>(
  options: Record<string, unknown>,
  allowed: readonly G[],
  defaults: readonly G[],
): G[] {
  const value = options.gases;
  if (!Array.isArray(value)) return [...defaults];
  const chosen: G[] = [];
  for (const item of value) {
    const gas = allowed.find((name) => name === item);
    if (gas !== undefined && !chosen.includes(gas)) chosen.push(gas);
  }
  return chosen.length > 0 ? chosen : [...defaults];
}
