/* Checks the page-0 sled layout (core/sled.h) by decoding it from every byte offset with
 * the only encodings it may contain (REX prefixes, E9 rel32): each entry must reach an
 * E9 within the 15-byte instruction limit and land on its group's slot, except entries
 * from SLED_FAULT_LO on, which must run into page 1 (and fault there, rip == entry).
 * Prints "ok <entries checked>". */
#include <stdio.h>
#include <stdint.h>
#include "core/sled.h"

int main(void)
{
    static uint8_t p[4096];
    const uint8_t rex = 0x48;
    tl_sled_build(p, rex);
    int n = 0;
    for (int e = 0; e < 4096; e++) {
        int i = e;
        while (i < 4096 && (p[i] & 0xF0) == 0x40) i++;
        if (i == 4096) {
            if (e < SLED_FAULT_LO) { printf("offset %d runs off the page\n", e); return 1; }
            n++;
            continue;
        }
        if (p[i] != 0xE9) { printf("offset %d decodes byte %02x\n", e, p[i]); return 1; }
        if (i + 5 > 4096) { printf("offset %d: jump cut by the page end\n", e); return 1; }
        int len = i + 5 - e;
        if (len > 15) { printf("offset %d: instruction of %d bytes\n", e, len); return 1; }
        uint32_t rel = (uint32_t)p[i + 1] | (uint32_t)p[i + 2] << 8 | (uint32_t)p[i + 3] << 16 | (uint32_t)p[i + 4] << 24;
        uint64_t target = (uint64_t)(i + 5) + rel;
        int g = i / SLED_GROUP;
        if (target != SLED_LANDING(rex, g)) { printf("offset %d lands at %llx\n", e, (unsigned long long)target); return 1; }
        if (e >= SLED_FAULT_LO) { printf("offset %d should fault\n", e); return 1; }
        n++;
    }
    printf("ok %d\n", n);
    return 0;
}
