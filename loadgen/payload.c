/*
 * Target URL and request payloads of the load lab (see loadgen.h): the
 * loopback-only URL check, the built-in mix of short and long English
 * sentences (written for this project; persons, organisations, places and
 * dates), texts files, and the preformatted request bytes the event loop
 * sends as they are — nothing is formatted or allocated per request.
 */
#define _POSIX_C_SOURCE 200809L
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const SENTENCES[] = {
    /* short */
    "Ada Lovelace met Charles Babbage in London in June 1833.",
    "Siemens opened a new plant in Charlotte on Monday.",
    "Marie Curie moved to Paris in 1891.",
    "The World Health Organization met in Geneva last Tuesday.",
    "Kofi Annan was born in Kumasi, Ghana, on April 8, 1938.",
    "Toyota recalled 40,000 cars in Japan in March.",
    "Greta Lindqvist flew from Stockholm to Nairobi on Friday.",
    "Microsoft bought GitHub in 2018.",
    "The Louvre reopened on July 6, 2020.",
    "Nelson Mandela was released from prison on February 11, 1990.",
    "Airbus delivered its first A380 to Singapore Airlines in October 2007.",
    "Professor Kenji Watanabe joined Kyoto University in 1999.",
    /* long */
    "On a rainy morning in October 2019, Dr. Amara Okafor of the University of Lagos "
    "presented her findings on malaria vaccines to delegates from the World Bank, "
    "UNICEF and the Bill & Melinda Gates Foundation at a conference in Addis Ababa.",
    "After graduating from the Massachusetts Institute of Technology in 1987, Daniel "
    "Moreau spent ten years at IBM in Zurich before founding a robotics start-up in "
    "Lyon, which Schneider Electric acquired on 3 March 2015 for an undisclosed sum.",
    "The European Central Bank kept interest rates unchanged on Thursday, and its "
    "president told reporters in Frankfurt that inflation in Germany, France and Italy "
    "would fall below two percent by the end of 2025.",
    "Jane Goodall began studying chimpanzees at Gombe Stream in Tanzania in July 1960, "
    "and decades later the Jane Goodall Institute opened offices in Washington, London "
    "and Johannesburg to continue her work.",
    "When the Apollo 11 crew returned on July 24, 1969, Neil Armstrong, Buzz Aldrin and "
    "Michael Collins were flown to Houston, where NASA kept them in quarantine for three "
    "weeks before a parade in New York City.",
    "Samsung Electronics reported record profits for the third quarter of 2021, while "
    "analysts at Goldman Sachs in Hong Kong warned that chip shortages could hurt "
    "carmakers such as Ford and Volkswagen well into 2022.",
    "In the summer of 1936, Jesse Owens won four gold medals at the Olympic Games in "
    "Berlin, and on his return he was honoured with a ticker-tape parade along Broadway "
    "in Manhattan.",
    "Sofia Hernandez, a reporter for Reuters in Mexico City, interviewed the mayor of "
    "Guadalajara on Wednesday about the floods that had displaced thousands of families "
    "along the Santiago River since late August.",
};

#define N_SENTENCES (sizeof SENTENCES / sizeof *SENTENCES)

size_t lg_builtin_text_count(void)
{
    return N_SENTENCES;
}

const char *lg_builtin_sentence(size_t i)
{
    return i < N_SENTENCES ? SENTENCES[i] : NULL;
}

/* ---- target --------------------------------------------------------- */

lg_err lg_target_parse(const char *url, lg_target *t, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    if (!url || strncmp(url, "http://", 7)) {
        snprintf(err, errcap, "--host '%s': expected http://127.0.0.1:PORT (the load lab "
                 "drives loopback targets only; https is not supported)", url ? url : "");
        return LG_EHOST;
    }
    const char *h = url + 7, *hend;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend) {
            snprintf(err, errcap, "--host '%s': unterminated [IPv6] address", url);
            return LG_EHOST;
        }
        hend++;
    } else {
        hend = h + strcspn(h, ":/?#@");
    }
    if (*hend == '@' || memchr(h, '@', strcspn(h, "/?#"))) {
        snprintf(err, errcap, "--host '%s': user information is not supported", url);
        return LG_EHOST;
    }
    size_t hl = (size_t)(hend - h);
    if (!hl || hl >= sizeof t->host) {
        snprintf(err, errcap, "--host '%s': missing or overlong host", url);
        return LG_EHOST;
    }
    memcpy(t->host, h, hl);
    t->host[hl] = 0;
    const char *p = hend;
    t->port = 80;
    if (*p == ':') {
        char *e;
        errno = 0;
        long port = strtol(p + 1, &e, 10);
        if (e == p + 1 || port < 1 || port > 65535 || errno) {
            snprintf(err, errcap, "--host '%s': bad port", url);
            return LG_EHOST;
        }
        t->port = (int)port;
        p = e;
    }
    if (*p && *p != '/') {
        snprintf(err, errcap, "--host '%s': unexpected '%c' after the host", url, *p);
        return LG_EHOST;
    }
    size_t bl = strcspn(p, "?#");
    if (p[bl]) {
        snprintf(err, errcap, "--host '%s': no query or fragment allowed (use --path)", url);
        return LG_EHOST;
    }
    while (bl && p[bl - 1] == '/')
        bl--;
    if (bl >= sizeof t->base) {
        snprintf(err, errcap, "--host '%s': path too long", url);
        return LG_EHOST;
    }
    memcpy(t->base, p, bl);
    t->base[bl] = 0;
    for (const char *c = t->base; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            snprintf(err, errcap, "--host '%s': path has a space or control character", url);
            return LG_EHOST;
        }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&t->addr;
    if (!strcasecmp(t->host, "localhost") || inet_pton(AF_INET, t->host, &a4->sin_addr) == 1) {
        if (!strcasecmp(t->host, "localhost"))
            a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127) {
            snprintf(err, errcap, "--host '%s': %s is not a loopback address; the load lab "
                     "only targets 127.0.0.0/8, localhost or [::1]", url, t->host);
            return LG_EHOST;
        }
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)t->port);
        t->family = AF_INET;
        t->addr_len = sizeof *a4;
    } else if (!strcmp(t->host, "[::1]")) {
        t->addr.sin6_family = AF_INET6;
        t->addr.sin6_addr = in6addr_loopback;
        t->addr.sin6_port = htons((uint16_t)t->port);
        t->family = AF_INET6;
        t->addr_len = sizeof t->addr;
    } else {
        snprintf(err, errcap, "--host '%s': %s is not a loopback address; the load lab only "
                 "targets 127.0.0.0/8, localhost or [::1]", url, t->host);
        return LG_EHOST;
    }
    snprintf(t->origin, sizeof t->origin, "http://%s:%d", t->host, t->port);
    return LG_OK;
}

/* ---- payloads ------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* {"text":"..."} with JSON escapes (bytes >= 0x80 copied: UTF-8 stays). */
static int json_body(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (sb_add(b, "{\"text\":\"", 9))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[7];
        size_t el = 2;
        e[0] = '\\';
        if (c == '"' || c == '\\') {
            e[1] = (char)c;
        } else if (c == '\n') {
            e[1] = 'n';
        } else if (c == '\t') {
            e[1] = 't';
        } else if (c == '\r') {
            e[1] = 'r';
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
        } else {
            e[0] = (char)c;
            el = 1;
        }
        if (sb_add(b, e, el))
            return -1;
    }
    return sb_add(b, "\"}", 2);
}

static lg_err add_request(lg_payloads *p, sbuf *all, size_t *cap, const lg_target *t,
                          const char *path, const char *text, size_t n)
{
    sbuf body = {0};
    if (json_body(&body, text, n)) {
        free(body.p);
        return LG_ENOMEM;
    }
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "POST %s%s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: nerd-bench\r\n"
                      "Accept: */*\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      t->base, path, t->host, t->port, body.n);
    if (hl < 0 || (size_t)hl >= sizeof head) {
        free(body.p);
        return LG_ELIMIT;
    }
    if (p->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        size_t *o = realloc(p->off, nc * sizeof *o);
        if (!o) {
            free(body.p);
            return LG_ENOMEM;
        }
        p->off = o;
        size_t *l = realloc(p->len, nc * sizeof *l);
        if (!l) {
            free(body.p);
            return LG_ENOMEM;
        }
        p->len = l;
        *cap = nc;
    }
    p->off[p->n] = all->n;
    p->len[p->n] = (size_t)hl + body.n;
    p->body_bytes += body.n;
    int bad = sb_add(all, head, (size_t)hl) || sb_add(all, body.p, body.n);
    free(body.p);
    if (bad)
        return LG_ENOMEM;
    p->n++;
    return LG_OK;
}

lg_err lg_payloads_build(lg_payloads *p, const lg_target *t, const char *path,
                         const char *texts, char *err, size_t errcap)
{
    memset(p, 0, sizeof *p);
    if (err && errcap)
        err[0] = 0;
    if (!path || path[0] != '/' || strlen(path) > 512 || strpbrk(path, " \t\r\n#")) {
        snprintf(err, errcap, "--path '%s': expected an absolute path such as /ner",
                 path ? path : "");
        return LG_EINVAL;
    }
    sbuf all = {0};
    size_t cap = 0;
    lg_err rc = LG_OK;
    if (!texts) {
        for (size_t i = 0; i < N_SENTENCES && !rc; i++)
            rc = add_request(p, &all, &cap, t, path, SENTENCES[i], strlen(SENTENCES[i]));
    } else {
        FILE *f = fopen(texts, "rb");
        if (!f) {
            snprintf(err, errcap, "--texts %s: %s", texts, strerror(errno));
            return LG_ENOENT;
        }
        char *line = malloc(LG_MAX_TEXT + 2);
        if (!line) {
            fclose(f);
            return LG_ENOMEM;
        }
        long lineno = 0;
        while (!rc) {
            size_t n = 0;
            int c = 0;
            while ((c = getc(f)) != EOF && c != '\n') {
                if (n > LG_MAX_TEXT) /* keep reading to the end of the line */
                    continue;
                line[n++] = (char)c;
            }
            if (c == EOF && n == 0)
                break;
            lineno++;
            if (n > LG_MAX_TEXT) {
                snprintf(err, errcap, "--texts %s:%ld: line longer than %d bytes", texts,
                         lineno, LG_MAX_TEXT);
                rc = LG_ELIMIT;
                break;
            }
            if (n && line[n - 1] == '\r')
                n--;
            if (!n)
                continue;
            if (p->n == LG_MAX_TEXTS) {
                snprintf(err, errcap, "--texts %s: more than %d texts", texts, LG_MAX_TEXTS);
                rc = LG_ELIMIT;
                break;
            }
            rc = add_request(p, &all, &cap, t, path, line, n);
            if (!rc && all.n > LG_MAX_PAYLOAD_BYTES) {
                snprintf(err, errcap, "--texts %s:%ld: the requests pass %u MB in all", texts,
                         lineno, LG_MAX_PAYLOAD_BYTES >> 20);
                rc = LG_ELIMIT;
                break;
            }
            if (c == EOF)
                break;
        }
        free(line);
        if (ferror(f) && !rc) {
            snprintf(err, errcap, "--texts %s: read error", texts);
            rc = LG_EIO;
        }
        fclose(f);
        if (!rc && !p->n) {
            snprintf(err, errcap, "--texts %s: no texts (one per line)", texts);
            rc = LG_EINVAL;
        }
    }
    p->buf = all.p;
    if (rc) {
        if (!err[0])
            snprintf(err, errcap, "payloads: %s", lg_strerror(rc));
        lg_payloads_fini(p);
    }
    return rc;
}

void lg_payloads_fini(lg_payloads *p)
{
    if (!p)
        return;
    free(p->buf);
    free(p->off);
    free(p->len);
    memset(p, 0, sizeof *p);
}
