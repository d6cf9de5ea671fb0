// Strings as strace prints them (its string_quote()): in double quotes, with \" \\ \f \n \r \t
// \v escaped, other bytes outside ' '..'~' in octal (as short as the next byte allows), or
// every byte as \xNN when hex is asked for (getrandom's buffer, -xx). A string cut at -s
// STRSIZE is followed by ... outside the quotes.

/** bytes in strace's quotes. */
export function quoteBytes(bytes: Uint8Array, hex = false): string {
  let s = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (hex) {
      s += `\\x${c.toString(16).padStart(2, '0')}`;
      continue;
    }
    switch (c) {
      case 0x22: s += '\\"'; break;
      case 0x5c: s += '\\\\'; break;
      case 0x0c: s += '\\f'; break;
      case 0x0a: s += '\\n'; break;
      case 0x0d: s += '\\r'; break;
      case 0x09: s += '\\t'; break;
      case 0x0b: s += '\\v'; break;
      default:
        if (c >= 0x20 && c <= 0x7e) s += String.fromCharCode(c);
        else {
          const next = bytes[i + 1];
          s += '\\';
          if (next !== undefined && next >= 0x30 && next <= 0x37) {
            s += String(c >> 6) + String((c >> 3) & 7);
          } else if (c >> 3) {
            if (c >> 6) s += String(c >> 6);
            s += String((c >> 3) & 7);
          }
          s += String(c & 7);
        }
    }
  }
  return `${s}"`;
}

/** A string or buffer of which strsize bytes at most are shown; truncated (or more bytes
 *  than strsize given) adds strace's ... after the quotes. */
export function quoteLimited(bytes: Uint8Array, strsize: number, truncated: boolean, hex = false): string {
  const cut = bytes.length > strsize;
  const shown = cut ? bytes.subarray(0, strsize) : bytes;
  return quoteBytes(shown, hex) + (cut || truncated ? '...' : '');
}
