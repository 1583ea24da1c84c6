/*
 * epoll loop, timer heap and cross-thread posts (see loop.h).
 */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"

#define EV_BATCH 256

typedef struct ev_post_item {
    void (*fn)(void *);
    void *arg;
    struct ev_post_item *next;
} ev_post_item;

struct ev_loop {
    int ep, wake;
    double now;
    ev_timer **heap;
    size_t n_heap, cap_heap;
    size_t n_io;
    pthread_mutex_t mu;        /* posts */
    ev_post_item *posts, **tail;
    ev_post_item *deferred, **deferred_tail; /* ev_defer (FIFO): this thread only */
};

static void run_deferred(ev_loop *L);

ev_loop *ev_new(void)
{
    ev_loop *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    L->ep = epoll_create1(EPOLL_CLOEXEC);
    L->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ee = {.events = EPOLLIN, .data.ptr = NULL};
    if (L->ep < 0 || L->wake < 0 || epoll_ctl(L->ep, EPOLL_CTL_ADD, L->wake, &ee) != 0) {
        if (L->ep >= 0)
            close(L->ep);
        if (L->wake >= 0)
            close(L->wake);
        free(L);
        return NULL;
    }
    pthread_mutex_init(&L->mu, NULL);
    L->tail = &L->posts;
    L->now = clk_mono_ms();
    return L;
}

void ev_free(ev_loop *L)
{
    if (!L)
        return;
    close(L->ep);
    close(L->wake);
    run_deferred(L);
    for (ev_post_item *p = L->posts, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    pthread_mutex_destroy(&L->mu);
    free(L->heap);
    free(L);
}

int ev_io_start(ev_loop *L, ev_io *w, int fd, uint32_t events, ev_io_fn cb, void *data)
{
    if (w->fd >= 0 && w->fd == fd && w->cb) {
        w->cb = cb;
        w->data = data;
        return ev_io_set(L, w, events);
    }
    struct epoll_event ee = {.events = events, .data.ptr = w};
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ee) != 0)
        return -1;
    w->fd = fd;
    w->events = events;
    w->cb = cb;
    w->data = data;
    L->n_io++;
    return 0;
}

int ev_io_set(ev_loop *L, ev_io *w, uint32_t events)
{
    if (w->fd < 0 || w->events == events)
        return 0;
    struct epoll_event ee = {.events = events, .data.ptr = w};
    if (epoll_ctl(L->ep, EPOLL_CTL_MOD, w->fd, &ee) != 0)
        return -1;
    w->events = events;
    return 0;
}

void ev_io_stop(ev_loop *L, ev_io *w)
{
    if (w->fd < 0 || !w->cb)
        return;
    epoll_ctl(L->ep, EPOLL_CTL_DEL, w->fd, NULL);
    w->fd = -1;
    w->cb = NULL;
    L->n_io--;
}

size_t ev_active(const ev_loop *L) { return L->n_io; }

double ev_now(const ev_loop *L) { return L->now; }

/* ---- timers: a binary min-heap of pointers, slot = index + 1 --------- */

static void heap_set(ev_loop *L, size_t i, ev_timer *t)
{
    L->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(ev_loop *L, size_t i)
{
    ev_timer *t = L->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (L->heap[p]->at <= t->at)
            break;
        heap_set(L, i, L->heap[p]);
        i = p;
    }
    heap_set(L, i, t);
}

static void sift_down(ev_loop *L, size_t i)
{
    ev_timer *t = L->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= L->n_heap)
            break;
        if (c + 1 < L->n_heap && L->heap[c + 1]->at < L->heap[c]->at)
            c++;
        if (L->heap[c]->at >= t->at)
            break;
        heap_set(L, i, L->heap[c]);
        i = c;
    }
    heap_set(L, i, t);
}

void ev_timer_stop(ev_loop *L, ev_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    ev_timer *last = L->heap[--L->n_heap];
    if (i == L->n_heap)
        return;
    heap_set(L, i, last);
    sift_up(L, i);
    sift_down(L, last->slot - 1);
}

void ev_timer_start(ev_loop *L, ev_timer *t, double at_ms, ev_timer_fn cb, void *data)
{
    t->cb = cb;
    t->data = data;
    if (t->slot) {
        t->at = at_ms;
        size_t i = t->slot - 1;
        sift_up(L, i);
        sift_down(L, t->slot - 1);
        return;
    }
    if (L->n_heap == L->cap_heap) {
        size_t cap = L->cap_heap ? L->cap_heap * 2 : 64;
        ev_timer **h = realloc(L->heap, cap * sizeof *h);
        if (!h)
            abort(); /* a deadline that cannot be kept is not an option */
        L->heap = h;
        L->cap_heap = cap;
    }
    t->at = at_ms;
    heap_set(L, L->n_heap++, t);
    sift_up(L, L->n_heap - 1);
}

/* ---- posts ------------------------------------------------------------ */

static ev_post_item *item_new(void (*fn)(void *), void *arg)
{
    ev_post_item *p = malloc(sizeof *p);
    if (p) {
        p->fn = fn;
        p->arg = arg;
        p->next = NULL;
    }
    return p;
}

int ev_post(ev_loop *L, void (*fn)(void *), void *arg)
{
    ev_post_item *p = item_new(fn, arg);
    if (!p)
        return -1;
    pthread_mutex_lock(&L->mu);
    int was_empty = L->posts == NULL;
    *L->tail = p;
    L->tail = &p->next;
    pthread_mutex_unlock(&L->mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(L->wake, &one, sizeof one);
        (void)w;
    }
    return 0;
}

int ev_defer(ev_loop *L, void (*fn)(void *), void *arg)
{
    ev_post_item *p = item_new(fn, arg);
    if (!p)
        return -1;
    if (!L->deferred)
        L->deferred_tail = &L->deferred;
    *L->deferred_tail = p;
    L->deferred_tail = &p->next;
    return 0;
}

static void run_deferred(ev_loop *L)
{
    while (L->deferred) {
        ev_post_item *p = L->deferred;
        L->deferred = p->next;
        p->fn(p->arg);
        free(p);
    }
}

static void run_posts(ev_loop *L)
{
    uint64_t v;
    ssize_t r = read(L->wake, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&L->mu);
    ev_post_item *p = L->posts;
    L->posts = NULL;
    L->tail = &L->posts;
    pthread_mutex_unlock(&L->mu);
    while (p) {
        ev_post_item *n = p->next;
        p->fn(p->arg);
        free(p);
        p = n;
    }
}

int ev_run_once(ev_loop *L, int max_ms)
{
    int wait = max_ms;
    if (L->n_heap) {
        double d = L->heap[0]->at - clk_mono_ms();
        int ms = d <= 0 ? 0 : (int)d + 1;
        if (wait < 0 || ms < wait)
            wait = ms;
    }
    struct epoll_event evs[EV_BATCH];
    int n = epoll_wait(L->ep, evs, EV_BATCH, wait);
    if (n < 0 && errno != EINTR)
        return -1;
    L->now = clk_mono_ms();
    int posted = 0;
    for (int i = 0; i < n; i++) {
        ev_io *w = evs[i].data.ptr;
        if (!w) {
            posted = 1;
            continue;
        }
        if (w->cb)
            w->cb(L, w, evs[i].events);
    }
    run_deferred(L);
    if (posted)
        run_posts(L);
    run_deferred(L);
    L->now = clk_mono_ms();
    while (L->n_heap && L->heap[0]->at <= L->now) {
        ev_timer *t = L->heap[0];
        ev_timer_stop(L, t);
        t->cb(L, t);
    }
    run_deferred(L);
    return 0;
}
