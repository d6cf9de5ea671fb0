/* The program's own calls on ranges that include page 0 (where trapline keeps its
 * trampoline) must give the kernel's results for an unmapped page 0 and must not change
 * the trampoline. usage: page0calls [privileged]
 * One line per call: name, result, errno. Then a page mapped at 0x10000 is checked
 * (madvise/munmap over [0, 0x11000) act on it as natively), and finally rewritten calls
 * still work. "privileged": the calls that map page 0 itself (allowed natively only to
 * CAP_SYS_RAWIO with vm.mmap_min_addr = 0), whose results differ under trapline. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HI ((void *)0x10000)

static void show(const char *what, long r)
{
    printf("%-40s -> %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
    errno = 0;
}

static int map_hi(void)
{
    void *p = mmap(HI, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != HI) return 0;
    memset(p, 0x5a, 4096);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned char vec[32];
    if (argc > 1 && strcmp(argv[1], "privileged") == 0) {
        void *p = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        printf("mmap(0, MAP_FIXED) -> %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "mapped");
        if (!map_hi()) return 3;
        p = mremap(HI, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0);
        printf("mremap(0x10000 -> 0) -> %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "moved");
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        p = shmat(id, (void *)1, SHM_RND);
        printf("shmat(1, SHM_RND) -> %s\n", p == (void *)-1 ? strerrorname_np(errno) : "attached");
        shmctl(id, IPC_RMID, 0);
    } else {
        show("madvise(0, 4096, DONTNEED)", madvise(0, 4096, MADV_DONTNEED));
        show("madvise(0, 4096, bad)", madvise(0, 4096, 12345));
        show("madvise(0, 0, DONTNEED)", madvise(0, 0, MADV_DONTNEED));
        show("madvise(0, 4096, DONTFORK)", madvise(0, 4096, MADV_DONTFORK));
        show("madvise(0, 4096, WIPEONFORK)", madvise(0, 4096, MADV_WIPEONFORK));
        show("mprotect(0, 4096, READ)", mprotect(0, 4096, PROT_READ));
        show("mprotect(0, 4096, RWX)", mprotect(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
        show("mprotect(0, 4096, bad)", mprotect(0, 4096, 0x1000));
        show("mprotect(0, 0, READ)", mprotect(0, 0, PROT_READ));
        show("mprotect(1, 4096, READ)", mprotect((void *)1, 4096, PROT_READ));
        show("pkey_mprotect(0, 2^46, READ, -1)", syscall(SYS_pkey_mprotect, 0, 1ul << 46, PROT_READ, -1));
        show("pkey_mprotect(0, 4096, READ, 9)", syscall(SYS_pkey_mprotect, 0, 4096, PROT_READ, 9));
        show("munmap(0, 4096)", munmap(0, 4096));
        show("munmap(0, 0)", munmap(0, 0));
        show("munmap(1, 4096)", munmap((void *)1, 4096));
        show("mremap(0, 4096, 8192, MAYMOVE)", (long)mremap(0, 4096, 8192, MREMAP_MAYMOVE));
        show("mremap(0, 4096, 0, MAYMOVE)", (long)mremap(0, 4096, 0, MREMAP_MAYMOVE));
        show("mremap(0, 0, 4096, MAYMOVE)", (long)mremap(0, 0, 4096, MREMAP_MAYMOVE));
        show("mincore(0, 4096)", mincore(0, 4096, vec));
        show("mincore(0, 0)", mincore(0, 0, vec));
        show("mlock(0, 4096)", mlock(0, 4096));
        show("mlock(5, 10)", mlock((void *)5, 10));
        show("munlock(0, 4096)", munlock(0, 4096));
        show("mlock2(0, 4096, 0)", syscall(SYS_mlock2, 0, 4096, 0));
        show("mlock2(0, 4096, bad)", syscall(SYS_mlock2, 0, 4096, 99));
        show("msync(0, 4096, MS_SYNC)", msync(0, 4096, MS_SYNC));
        show("msync(0, 4096, bad)", msync(0, 4096, 99));
        show("mseal(0, 4096, 0)", syscall(462, 0, 4096, 0));
        show("mmap(0, 4096, hint)", mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
        show("mmap(0, FIXED_NOREPLACE, bad fd)", (long)mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, 12345, 0));
        /* ranges over page 0 and a page mapped above it */
        if (!map_hi()) return 3;
        show("madvise(0, 0x11000, DONTNEED)", madvise(0, 0x11000, MADV_DONTNEED));
        printf("page at 0x10000 zeroed: %d\n", ((unsigned char *)HI)[100] == 0);
        memset(HI, 0x5a, 4096);
        show("mprotect(0, 0x11000, READ)", mprotect(0, 0x11000, PROT_READ));
        show("write to 0x10000 still allowed", (((volatile unsigned char *)HI)[0] = 1, 0));
        show("munmap(0, 0x11000)", munmap(0, 0x11000));
        show("mincore(0x10000) after", mincore(HI, 4096, vec));
    }
    /* the trampoline still works: calls from rewritten sites */
    long ok = 1, want = getppid();
    for (int i = 0; i < 10; i++) ok &= syscall(SYS_getppid) == want;
    printf("calls after: %s\n", ok ? "ok" : "WRONG");
    return 0;
}
