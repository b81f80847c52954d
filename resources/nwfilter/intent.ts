/**
 * Reading a filter back without perpetual diffs. libvirt fills in what the user left out (each
 * rule's priority 500, the filter's chain and priority) and spells some values its own way (MAC
 * addresses in lower case, connection states in its own order). The kit's preserveUserIntent keeps
 * only what the user set but takes arrays whole, so rules and filter references go through here:
 * element by element, key by key, with the user's spelling kept where it means the same.
 */
export function keepIntent(previous: unknown, actual: unknown): unknown {
  if (previous === undefined || previous === null) return undefined;
  if (Array.isArray(previous) && Array.isArray(actual)) {
    return actual.map((item, index) =>
      index < previous.length ? keepIntent(previous[index], item) : item,
    );
  }
  if (isObject(previous) && isObject(actual)) {
    const kept: Record<string, unknown> = {};
    for (const key of Object.keys(previous)) {
      const value = keepIntent(previous[key], actual[key]);
      if (value !== undefined) kept[key] = value;
    }
    return kept;
  }
  if (typeof previous === "string" && typeof actual === "string" && sameSpelling(previous, actual))
    return previous;
  return actual;
}

/** `52:54:00:AB:…` is `52:54:00:ab:…`; `ESTABLISHED,NEW` is `NEW,ESTABLISHED`. */
function sameSpelling(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const states = (text: string) => text.toUpperCase().split(",").sort().join(",");
  return /^[A-Z,]+$/i.test(a) && a.includes(",") && states(a) === states(b);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
