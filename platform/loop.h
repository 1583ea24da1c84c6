/*
 * The platform's event loop: one epoll instance per worker thread, file
 * descriptor watchers (level-triggered), one timer structure (a binary
 * min-heap on CLOCK_MONOTONIC milliseconds) for every deadline, and posts
 * from other threads (an eventfd-woken queue).  Everything the platform
 * serves (client connections, Runtime API connections, runtime output,
 * process exits, async retries) is a watcher or a timer on some loop.
 *
 * A loop and its watchers and timers are used by one thread, except
 * ev_post(), which any thread may call.
 */
#ifndef NERD_LOOP_H
#define NERD_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ev_loop ev_loop;
typedef struct ev_io ev_io;
typedef struct ev_timer ev_timer;

/* revents: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits. */
typedef void (*ev_io_fn)(ev_loop *L, ev_io *w, uint32_t revents);
typedef void (*ev_timer_fn)(ev_loop *L, ev_timer *t);

struct ev_io {
    int fd;            /* -1 while not started */
    uint32_t events;   /* what is watched now */
    ev_io_fn cb;
    void *data;
};

struct ev_timer {
    double at;         /* monotonic ms */
    size_t slot;       /* heap index + 1; 0 = not armed */
    ev_timer_fn cb;
    void *data;
};

/* A new loop, or NULL (errno set). */
ev_loop *ev_new(void);

/* Frees L; its watchers must be stopped (their descriptors are the
 * caller's).  Posts not yet run are dropped.  ev_free(NULL) is a no-op. */
void ev_free(ev_loop *L);

/* Watches fd for events (EPOLLIN and/or EPOLLOUT) with cb; w must stay
 * valid until ev_io_stop().  Starting a started watcher changes its
 * events.  0, or -1 with errno. */
int ev_io_start(ev_loop *L, ev_io *w, int fd, uint32_t events, ev_io_fn cb, void *data);

/* Changes what a started watcher waits for (no system call when equal). */
int ev_io_set(ev_loop *L, ev_io *w, uint32_t events);

/* Stops w (before its descriptor is closed).  No-op when not started. */
void ev_io_stop(ev_loop *L, ev_io *w);

/* Arms t to fire once at monotonic time at_ms (re-arming moves it). */
void ev_timer_start(ev_loop *L, ev_timer *t, double at_ms, ev_timer_fn cb, void *data);
void ev_timer_stop(ev_loop *L, ev_timer *t);
static inline int ev_timer_armed(const ev_timer *t) { return t->slot != 0; }

/* The loop's clock: monotonic ms, refreshed after each wait. */
double ev_now(const ev_loop *L);

/* Runs fn(arg) on L's thread at its next iteration.  Thread-safe.
 * 0, or -1 when memory ran out (fn is not run). */
int ev_post(ev_loop *L, void (*fn)(void *), void *arg);

/* Runs fn(arg) on L's thread once the callbacks of the current iteration
 * are done, in the order deferred: frees of objects whose watchers may
 * still be in this iteration's batch, writes gathered over an iteration.  0, or -1 when memory ran out (fn is not run). */
int ev_defer(ev_loop *L, void (*fn)(void *), void *arg);

/* Waits at most max_ms (-1: until something happens) and runs what is
 * due: descriptor callbacks, expired timers, posts.  0, or -1 on an epoll
 * error other than EINTR. */
int ev_run_once(ev_loop *L, int max_ms);

/* Watchers started (for a shutdown that waits until only its own are
 * left). */
size_t ev_active(const ev_loop *L);

#endif
