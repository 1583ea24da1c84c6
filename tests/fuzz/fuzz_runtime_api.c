/* libFuzzer target: the Runtime API server (request parsing, routing,
 * state machine, error answers) on arbitrary bytes from the runtime's side
 * of a real socket.  Must never crash or hang. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static sam_function f = {.name = "Fuzz", .memory_mb = 128, .timeout_s = 3};
    int sv[2];
    if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return 0;
    lam_env *e = lam__fake(&f);
    if (!e) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(sv[1], data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    lam__feed(e, sv[0]); /* closes sv[0] */
    close(sv[1]);
    lam_env_free(e);
    return 0;
}
