/**
 * JSON text with exact 64-bit integers, shared by the SPO and Firecracker converters: values read with
 * the yaml package's intAsBigInt are bigints, which JSON.stringify refuses and Number would round.
 * (oci-export.ts has a private copy of the same function.)
 */

/** JSON.stringify with bigints written as exact integers. */
export function stringifyExact(value: unknown, indent: number): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? `${marker}${item}` : item),
    indent,
  );
  return text.replace(/"\\u0000bigint:(\d+)"/g, '$1');
}
