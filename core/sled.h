/* Layout of the page-0 trampoline ("sled"). A rewritten site `callq *%rax` lands at
 * address nr. Page 0 is 372 groups of 11 bytes, then 4 bytes:
 *
 *   group g (offset 11g):  R R R R R R  E9 R R R R        R = a REX prefix byte (0x4X)
 *   4092..4095:            R R R R
 *
 * The jump's rel32 is made of REX bytes too, so from *any* byte offset the CPU decodes
 * at most 10 REX prefixes and then E9 rel32 (15 bytes at the longest, the architectural
 * limit): one direct jump, registers and flags untouched. Group g's jump lands at
 * LANDING(g) = 11(g+1) + rel32, a slot of its own on the landing pages, holding
 * `jmp *[abs32]` through a pointer to tl_fast_entry.
 * An entry in the last group's rel32 (4088..4091) or in the tail (4092..4095) decodes
 * prefixes into page 1 (unmapped): the fault has rip == rax, which the SIGSEGV handler
 * recognises (such numbers are invalid anyway) — see sud/signals.c. */
#ifndef TRAPLINE_SLED_H
#define TRAPLINE_SLED_H

#define SLED_GROUP 11
#define SLED_GROUPS 372
#define SLED_SIZE 4096 /* page 0 */
#define SLED_REX_RUN 6 /* the REX bytes before a group's jump */
#define SLED_JMP_REL32 0xE9 /* jmp rel32 */
/* entries from here on (the last group's rel32, then the tail) fault into page 1 */
#define SLED_FAULT_LO (SLED_GROUP * (SLED_GROUPS - 1) + SLED_REX_RUN + 1)

#ifndef __ASSEMBLER__
#include <stdint.h>
_Static_assert(SLED_REX_RUN + 1 + 4 == SLED_GROUP, "a group: REX bytes, E9, a rel32 of REX bytes");
_Static_assert(SLED_GROUPS *SLED_GROUP + 4 == SLED_SIZE, "372 groups and a 4-byte tail fill page 0");
_Static_assert(SLED_FAULT_LO == 4088, "the last group's rel32 starts at 4088");

static inline void tl_sled_build(uint8_t *p, uint8_t rex)
{
    for (int g = 0; g < SLED_GROUPS; g++) {
        uint8_t *q = p + g * SLED_GROUP;
        for (int i = 0; i < SLED_REX_RUN; i++) q[i] = rex;
        q[SLED_REX_RUN] = SLED_JMP_REL32;
        for (int i = SLED_REX_RUN + 1; i < SLED_GROUP; i++) q[i] = rex;
    }
    for (int i = SLED_GROUPS * SLED_GROUP; i < SLED_SIZE; i++) p[i] = rex;
}

/* rel32 of every group's jump, and the address its jump lands on */
#define SLED_REL(rex) (0x01010101u * (uint32_t)(rex))
#define SLED_LANDING(rex, g) ((uint64_t)SLED_GROUP * ((uint64_t)(g) + 1) + (uint64_t)SLED_REL(rex))
#endif
#endif
