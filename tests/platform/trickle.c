/*
 * Slow clients against `nerd local start-api` (tests/platform/test_slowclients.sh).
 *
 *   trickle PORT [-n CONNS] [-d DEADLINE_S] [-s SLACK_S] [-r REQS] [-R RATE]
 *                [-p PATH] [-b BODY] [-w SECONDS] [-o OPEN_RATE]
 *
 * Opens CONNS connections to 127.0.0.1:PORT (non-blocking, one epoll loop,
 * at most 256 connects in flight; as fast as they complete, or OPEN_RATE a
 * second) and sends each a request head one byte a
 * second, "GET PATH HTTP/1.1\r\nHost: x\r\nX-Slow: aaaa..." that never
 * ends, so every one must be answered at the gateway's head deadline.  For
 * each it records when its first byte went out, when the answer's first
 * byte came back, what the answer was (408 with {"message":"Request
 * Timeout"}?) and whether the gateway then closed the connection (FIN or
 * RST).
 *
 * Once every trickler has sent its first byte, a second thread sends REQS
 * GET PATH requests one after another on one keep-alive connection, paced
 * at RATE a second (a request that falls behind is sent at once), each
 * timed from its send to the last byte of its answer, and checks each is
 * 200 with body BODY.  A failed connection is reopened (its request counts
 * as failed).
 *
 * Stops when every trickler is closed and the requests are done, or after
 * -w seconds (default DEADLINE + SLACK + 10).  Prints two lines for the
 * test to read (key=value) and, for diagnosis, the first unexpected answer:
 *
 *   trickle: conns=N connected=N connect_err=N connect_s=S answered=N ok408=N
 *            closed=N rst=N other=N silent=N early=N late=N t_min=S t_max=S
 *   client: reqs=N ok=N fail=N p50_us=N p99_us=N max_us=N
 *
 * ok408: answered "HTTP/1.1 408 " with exactly that body, between DEADLINE
 * and DEADLINE + SLACK seconds after its first byte, and then closed;
 * early/late: answers outside that window; other: answers that were not
 * the 408; silent: no answer by the end.  Exit status 0 when every
 * trickler is ok408 and every request ok, 1 otherwise, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_CAP 1024
#define MAX_PENDING 256
static const char want_body[] = "{\"message\":\"Request Timeout\"}";

typedef struct {
    int fd;
    int state;           /* 0 not opened, 1 connecting, 2 trickling, 3 done */
    int sent;            /* bytes of the head sent */
    int answered, rst, closed;
    double t_first, t_next, t_resp, t_close;
    size_t rlen;
    char resp[RESP_CAP];
} tconn;

static int port;
static long nconns = 5000, nreqs = 2000;
static double deadline = 5, slack = 2, rate = 400, wall = 0, open_rate = 0;
static const char *path = "/hello", *body = "hello";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char head_byte(int i)
{
    static char prefix[256];
    static int plen = -1;
    if (plen < 0)
        plen = snprintf(prefix, sizeof prefix, "GET %s HTTP/1.1\r\nHost: x\r\nX-Slow: ", path);
    return i < plen ? prefix[i] : 'a'; /* the X-Slow value never ends */
}

static int open_conn(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the request client (its own thread, blocking I/O) --------------- */

static atomic_int client_go, client_done;
static long c_ok, c_fail;
static double *lat;

static int connect_blocking(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One request on *fd: 1 when answered 200 with the expected body (and
 * the connection stays usable), 0 otherwise (*fd closed, -1). */
static int one_request(int *fd, char *first_bad, size_t badcap)
{
    char req[512], buf[8192];
    size_t len = 0;
    buf[0] = 0;
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    if (*fd < 0 && (*fd = connect_blocking()) < 0)
        return 0;
    if (send(*fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        goto fail;
    char *end = NULL;
    while (!end) {
        if (len >= sizeof buf - 1)
            goto fail;
        ssize_t r = recv(*fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0)
            goto fail;
        len += (size_t)r;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    size_t hlen = (size_t)(end - buf) + 4;
    long clen = -1;
    int closing = 0;
    for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (!strncasecmp(l + 2, "Content-Length:", 15))
            clen = strtol(l + 17, NULL, 10);
        if (!strncasecmp(l + 2, "Connection: close", 17))
            closing = 1;
    }
    if (clen < 0 || hlen + (size_t)clen > sizeof buf - 1)
        goto fail;
    while (len < hlen + (size_t)clen) {
        ssize_t r = recv(*fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0)
            goto fail;
        len += (size_t)r;
    }
    buf[len] = 0;
    int good = !strncmp(buf, "HTTP/1.1 200 ", 13) && (size_t)clen == strlen(body) &&
               !memcmp(buf + hlen, body, (size_t)clen);
    if (!good && !first_bad[0])
        snprintf(first_bad, badcap, "%.*s", (int)strcspn(buf, "\r"), buf);
    if (closing || len != hlen + (size_t)clen) {
        close(*fd);
        *fd = -1;
    }
    return good;
fail:
    if (!first_bad[0])
        snprintf(first_bad, badcap, "connection failed after %zu bytes: %.*s", len,
                 (int)strcspn(buf, "\r"), buf);
    close(*fd);
    *fd = -1;
    return 0;
}

static char client_bad[256];

static void *client_main(void *arg)
{
    (void)arg;
    while (!client_go)
        usleep(1000);
    int fd = -1;
    double t0 = now();
    for (long i = 0; i < nreqs; i++) {
        double due = t0 + (double)i / rate, t = now();
        if (due > t)
            usleep((useconds_t)((due - t) * 1e6));
        double s = now();
        int good = one_request(&fd, client_bad, sizeof client_bad);
        lat[i] = now() - s;
        if (good)
            c_ok++;
        else
            c_fail++;
    }
    if (fd >= 0)
        close(fd);
    client_done = 1;
    return NULL;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- the tricklers (main thread, epoll) ------------------------------ */

static void on_answer(tconn *c, double t)
{
    for (;;) {
        char tmp[RESP_CAP];
        ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
        if (r > 0) {
            if (!c->answered) {
                c->answered = 1;
                c->t_resp = t;
            }
            size_t k = (size_t)r;
            if (k > RESP_CAP - 1 - c->rlen)
                k = RESP_CAP - 1 - c->rlen;
            memcpy(c->resp + c->rlen, tmp, k);
            c->rlen += k;
            c->resp[c->rlen] = 0;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r < 0 && errno == EINTR)
            continue;
        /* FIN or an error (RST): the gateway closed it */
        c->closed = 1;
        c->rst = r < 0;
        c->t_close = t;
        c->state = 3;
        close(c->fd);
        c->fd = -1;
        return;
    }
}

static int ok408(const tconn *c)
{
    if (!c->answered || !c->closed || strncmp(c->resp, "HTTP/1.1 408 ", 13))
        return 0;
    const char *e = strstr(c->resp, "\r\n\r\n");
    return e && !strcmp(e + 4, want_body);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
    usage:
        fprintf(stderr, "usage: trickle PORT [-n CONNS] [-d DEADLINE_S] [-s SLACK_S] [-r REQS] "
                        "[-R RATE] [-p PATH] [-b BODY] [-w SECONDS] [-o OPEN_RATE]\n");
        return 2;
    }
    port = atoi(argv[1]);
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc || argv[i][0] != '-')
            goto usage;
        const char *v = argv[++i];
        switch (argv[i - 1][1]) {
        case 'n': nconns = atol(v); break;
        case 'd': deadline = atof(v); break;
        case 's': slack = atof(v); break;
        case 'r': nreqs = atol(v); break;
        case 'R': rate = atof(v); break;
        case 'p': path = v; break;
        case 'b': body = v; break;
        case 'w': wall = atof(v); break;
        case 'o': open_rate = atof(v); break;
        default: goto usage;
        }
    }
    if (port <= 0 || nconns < 0 || nreqs < 0 || rate <= 0)
        goto usage;
    if (wall <= 0)
        wall = deadline + slack + 10;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)nconns + 64
                          ? (rlim_t)nconns + 64 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    tconn *cs = calloc((size_t)nconns + 1, sizeof *cs);
    long *queue = malloc(sizeof(long) * ((size_t)nconns + 1)); /* FIFO by next send time */
    lat = calloc((size_t)nreqs + 1, sizeof *lat);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || !queue || !lat || ep < 0) {
        perror("trickle");
        return 2;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, client_main, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }

    long opened = 0, pending = 0, connected = 0, connect_err = 0, live = 0;
    long qhead = 0, qtail = 0, qcap = nconns + 1; /* ring: queue[qhead..qtail) mod qcap */
    double t_start = now(), t_connected = 0;
    struct epoll_event evs[512];
    for (;;) {
        double t = now();
        while (opened < nconns && pending < MAX_PENDING &&
               (open_rate <= 0 || opened < (t - t_start) * open_rate + 1)) {
            tconn *c = &cs[opened];
            c->fd = open_conn();
            if (c->fd < 0) {
                c->state = 3;
                connect_err++;
                opened++;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)opened};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            c->state = 1;
            opened++;
            pending++;
        }
        if (!client_go && opened == nconns && pending == 0) {
            t_connected = t;
            client_go = 1;
        }
        /* the next byte for each trickler whose second has come */
        while (qhead < qtail && cs[queue[qhead % qcap]].t_next <= t) {
            long i = queue[qhead++ % qcap];
            tconn *c = &cs[i];
            if (c->state != 2 || c->answered)
                continue; /* answered: no more bytes, only its close is awaited */
            char b = head_byte(c->sent);
            if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1)
                c->sent++;
            c->t_next += 1.0;
            queue[qtail++ % qcap] = i; /* each trickler is queued at most once */
        }
        if (client_go && client_done && live == 0 && opened == nconns && pending == 0)
            break;
        if (t - t_start > wall)
            break;
        int tmo = open_rate > 0 && opened < nconns ? 1 : 50;
        if (qhead < qtail) {
            double d = cs[queue[qhead % qcap]].t_next - t;
            int dm = d <= 0 ? 0 : d < 0.05 ? (int)(d * 1000) + 1 : 50;
            tmo = dm < tmo ? dm : tmo;
        }
        int n = epoll_wait(ep, evs, 512, tmo);
        t = now();
        for (int k = 0; k < n; k++) {
            long i = (long)evs[k].data.u64;
            tconn *c = &cs[i];
            if (c->state == 1) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                pending--;
                if (err) {
                    close(c->fd);
                    c->fd = -1;
                    c->state = 3;
                    connect_err++;
                    continue;
                }
                connected++;
                live++;
                char b = head_byte(0);
                send(c->fd, &b, 1, MSG_NOSIGNAL);
                c->sent = 1;
                c->t_first = t;
                c->t_next = t + 1.0;
                c->state = 2;
                queue[qtail++ % qcap] = i;
                struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            } else if (c->state == 2) {
                on_answer(c, t);
                if (c->state == 3)
                    live--;
            }
        }
    }
    client_go = 1;
    pthread_join(th, NULL);

    long answered = 0, good = 0, closed = 0, rst = 0, other = 0, silent = 0, early = 0, late = 0;
    double tmin = 1e9, tmax = 0;
    const tconn *bad = NULL;
    for (long i = 0; i < nconns; i++) {
        const tconn *c = &cs[i];
        if (!c->t_first)
            continue; /* never connected: connect_err */
        closed += c->closed;
        rst += c->rst;
        if (!c->answered) {
            silent++;
            continue;
        }
        answered++;
        double d = c->t_resp - c->t_first;
        if (d < tmin) tmin = d;
        if (d > tmax) tmax = d;
        if (d < deadline - 0.001)
            early++;
        else if (d > deadline + slack)
            late++;
        if (ok408(c) && d >= deadline - 0.001 && d <= deadline + slack) {
            good++;
        } else {
            if (!ok408(c))
                other++;
            if (!bad)
                bad = c;
        }
    }
    printf("trickle: conns=%ld connected=%ld connect_err=%ld connect_s=%.2f answered=%ld ok408=%ld "
           "closed=%ld rst=%ld other=%ld silent=%ld early=%ld late=%ld t_min=%.3f t_max=%.3f\n",
           nconns, connected, connect_err, t_connected ? t_connected - t_start : -1.0, answered,
           good, closed, rst, other, silent, early, late, answered ? tmin : 0.0, tmax);
    if (bad) {
        char line[RESP_CAP];
        size_t k = 0;
        for (size_t j = 0; j < bad->rlen && k + 4 < sizeof line; j++) {
            char ch = bad->resp[j];
            if (ch == '\r') { line[k++] = '\\'; line[k++] = 'r'; }
            else if (ch == '\n') { line[k++] = '\\'; line[k++] = 'n'; }
            else line[k++] = ch;
        }
        line[k] = 0;
        printf("trickle: first unexpected answer (after %.3f s, %s): %s\n",
               bad->t_resp - bad->t_first, bad->closed ? (bad->rst ? "then reset" : "then closed")
                                                       : "left open", line);
    }
    long done = c_ok + c_fail;
    qsort(lat, (size_t)done, sizeof *lat, cmpd);
    double p50 = done ? lat[done / 2] : 0, p99 = done ? lat[(done * 99) / 100 < done ? (done * 99) / 100 : done - 1] : 0;
    printf("client: reqs=%ld ok=%ld fail=%ld p50_us=%.0f p99_us=%.0f max_us=%.0f\n", done, c_ok,
           c_fail, p50 * 1e6, p99 * 1e6, done ? lat[done - 1] * 1e6 : 0.0);
    if (client_bad[0])
        printf("client: first failure: %s\n", client_bad);
    for (long i = 0; i < nconns; i++)
        if (cs[i].fd >= 0 && cs[i].state)
            close(cs[i].fd);
    close(ep);
    free(cs);
    free(queue);
    free(lat);
    return good == nconns && c_ok == nreqs ? 0 : 1;
}
