/* libselfpreload.so: named by selfview's own LD_PRELOAD in test/launch.test.ts. Its
 * constructor counts; selfview finds selfpreload_constructed() with dlsym and prints the
 * count (ld.preload.constructed=1 when the loader ran it once). No libc: it loads into
 * glibc and musl programs alike. */
static int constructed;

__attribute__((constructor)) static void init(void) { constructed++; }

__attribute__((visibility("default"))) int selfpreload_constructed(void) { return constructed; }
