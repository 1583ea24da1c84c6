/* libFuzzer target: the Runtime API server (request parsing, routing,
 * state machine, error answers, /init/error's header and body) on
 * arbitrary bytes from the runtime's side of a real socket, once with the
 * runtime still in init and once past it.  Must never crash or hang. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Serves data[0..size) to a fake environment whose runtime is in init
 * (inited 0) or past it (1). */
static void feed(const sam_function *f, int inited, const unsigned char *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return;
    lam_env *e = lam__fake(f, inited);
    if (!e) {
        close(sv[0]);
        close(sv[1]);
        return;
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
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static sam_function f = {.name = "Fuzz", .memory_mb = 128, .timeout_s = 3};
    if (size > 65536)
        return 0;
    for (int inited = 0; inited <= 1; inited++)
        feed(&f, inited, data, size);
    return 0;
}
