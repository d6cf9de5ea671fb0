/* Layout of the page-0 trampoline ("sled"). A rewritten site `callq *%rax` lands at
 * address nr. From every byte offset the sled reaches one of two `jmp rel32` exits
 * without changing any register or flag:
 *
 *   [0, 512)        tier 1: `EB 65` pairs (hop +103/+104; odd entries decode `65 EB 65`)
 *   [512, 616)      tier 2: `EB 26` pairs (hop +40/+41)
 *   [616, 658)      NOPs
 *   [658, 663)      E9 rel32 (exit A); rel32 bytes are REX prefixes, so an entry inside it
 *                   decodes as REX...REX EB 65 into region B below
 *   [663, 3987)     region B: `EB 65` pairs with EB at odd offsets
 *   [3987, 4091)    NOPs
 *   [4091, 4096)    E9 rel32 (exit B); an entry at 4092..4095 decodes REX prefixes running
 *                   into page 1 (unmapped) and faults with rip == rax: the SIGSEGV handler
 *                   recognises that and emulates the call (it is a bad number anyway).
 * Exits land on the "landing" pages at 0x4x4x4x4x (the REX bytes), which hold an absolute
 * jump to tl_fast_entry. Valid syscall numbers (< 512) take at most 5 hops + 2 short hops
 * + 42 NOPs. */
#ifndef TRAPLINE_SLED_H
#define TRAPLINE_SLED_H
#include <stdint.h>

#define SLED_T1_END 512
#define SLED_T2_END 616
#define SLED_EXIT_A 658
#define SLED_B_START 663
#define SLED_B_NOP 3987
#define SLED_EXIT_B 4091

static inline void tl_sled_build(uint8_t *p, uint32_t rel_a, uint32_t rel_b)
{
    for (int i = 0; i < 4096; i++) p[i] = 0x90;
    for (int i = 0; i < SLED_T1_END; i++) p[i] = (i & 1) ? 0x65 : 0xEB;
    for (int i = SLED_T1_END; i < SLED_T2_END; i++) p[i] = (i & 1) ? 0x26 : 0xEB;
    p[SLED_EXIT_A] = 0xE9;
    for (int k = 0; k < 4; k++) p[SLED_EXIT_A + 1 + k] = (uint8_t)(rel_a >> (8 * k));
    for (int i = SLED_B_START; i < SLED_B_NOP; i++) p[i] = (i & 1) ? 0xEB : 0x65;
    p[SLED_EXIT_B] = 0xE9;
    for (int k = 0; k < 4; k++) p[SLED_EXIT_B + 1 + k] = (uint8_t)(rel_b >> (8 * k));
}

/* absolute targets of the two exits for a given rel32 */
#define SLED_TARGET_A(rel) ((uint64_t)(SLED_EXIT_A + 5) + (uint64_t)(rel))
#define SLED_TARGET_B(rel) ((uint64_t)(SLED_EXIT_B + 5) + (uint64_t)(rel))
#endif
