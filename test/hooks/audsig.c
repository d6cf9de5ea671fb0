/* Not a hook: an audit module (ld.so --audit), loaded into a namespace of its own, which
 * dl_iterate_phdr does not show, whose constructor runs before trapline's: it installs a
 * SIGUSR1 handler that blocks every signal while it runs (SIGSYS included) and makes a
 * system call from a site of its own (test/c/sigaudit.c). trapline must adopt it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <link.h>
#include "test/c/earlysig.h"

unsigned la_version(unsigned version)
{
    (void)version;
    return LAV_CURRENT;
}

__attribute__((constructor)) static void audsig_init(void)
{
    earlysig_install(SIGUSR1);
}
