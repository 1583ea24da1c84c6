/* libFuzzer target: the gateway's client connections (platform/conn.c) on
 * arbitrary bytes from a real socket: parsing through nerd/http.h,
 * pipelined requests answered in order, answers given at once or after
 * the loop iteration (as the fronts do when a function answers), parse
 * errors, 100-continue, the head deadline (408) and the peer's close.
 * Must never crash, hang or leak; every byte the server writes must be
 * whole HTTP answers. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

typedef struct later {
    hc_conn *c;
    int keep;
} later;

static void answer(hc_conn *c, int status, int keep)
{
    char head[128];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\ncontent-length: 2\r\n\r\n", status);
    hc_send(c, head, (size_t)n, "ok", 2, keep);
}

static void answer_later(void *arg)
{
    later *l = arg;
    answer(l->c, 200, l->keep);
    free(l);
}

static void on_request(hc_conn *c, char *buf, const http_request *r, void *arg)
{
    ev_loop *L = arg;
    /* requests whose target has an odd length are answered after the
     * iteration, the others at once */
    if (r->target_len % 2 && (buf[r->target] == '/')) {
        later *l = malloc(sizeof *l);
        if (l) {
            l->c = c;
            l->keep = r->keep_alive;
            if (ev_defer(L, answer_later, l) == 0)
                return;
            free(l);
        }
    }
    answer(c, 200, r->keep_alive);
}

static void on_error(hc_conn *c, int status, void *arg)
{
    (void)arg;
    answer(c, status, 0);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 65536)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return 0;
    ev_loop *L = ev_new();
    hc_limits lim = {0.002, 0.004, 0.004, 1024, 4096};
    hc_handler h = {on_request, on_error, NULL, L};
    hc_server *s = L ? hc_server_new(L, -1, &lim, &h) : NULL;
    if (!s || hc_server_adopt(s, sv[0]) != 0) {
        hc_server_free(s);
        ev_free(L);
        close(sv[1]);
        return 0;
    }
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    size_t off = 0;
    char sink[65536];
    double until = clk_mono_ms() + 1000;
    while (hc_server_conns(s) && clk_mono_ms() < until) {
        if (off < size) {
            ssize_t w = write(sv[1], data + off, size - off);
            if (w > 0)
                off += (size_t)w;
            if (off == size)
                shutdown(sv[1], SHUT_WR);
        } else if (size == 0) {
            shutdown(sv[1], SHUT_WR);
        }
        ev_run_once(L, 10);
        while (read(sv[1], sink, sizeof sink) > 0)
            ;
    }
    hc_server_free(s);
    ev_run_once(L, 0); /* deferred frees */
    ev_free(L);
    close(sv[1]);
    return 0;
}
