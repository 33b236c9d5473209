/*
 * cpe-fleet: a CWMP load generator.  One process, epoll, many simulated
 * CPEs at once.  Each session opens a new TCP connection (as CPEs do),
 * sends an Inform (~3 KB, a distinct serial per device), the empty POST,
 * answers every ACS request (GetParameterValues from a small model,
 * SetParameterValues status 0, an empty response otherwise) until 204.
 *
 *   cpe-fleet -p PORT -n DEVICES -c CONCURRENCY -d SECONDS
 *             [-s SERIAL_BASE] [-e "2 PERIODIC"] [-r RATE] [-t TOTAL]
 *             [-u PATH] [-a PASSWORD] [-x] [-R]
 *
 * With -R, a device whose new session is shed (503) tries again (at once,
 * on the next free CPE: harsher than CPEs that honour Retry-After): with
 * -t, every one of the TOTAL devices ends up served (bench/storm).
 *
 * With -x, each request says which of its session's it is ("X-Exchange:
 * 0" the Inform, 1 the empty POST, ...): a canned nginx answers the same
 * sequence of exchanges the ACS does (bench/run's fair ceilings).
 *
 * With -a, each CPE authenticates as TR-069 CPEs do: its Inform draws a
 * 401 Digest challenge, and goes again on the same connection with
 * Authorization (MD5, qop=auth, username = its device ID).
 *
 * Without -r, a closed loop: CONCURRENCY CPEs, each starting its next
 * session when the last one ends (the peak).  With -r, an open loop: a
 * new session every 1/RATE s, whatever the ACS does, at most CONCURRENCY
 * at once (a session due with none free is counted as "missed": the
 * generator, not the ACS, was the limit).  With -t, a closed loop of
 * TOTAL sessions (SECONDS is then a cap), the rate over the time they took.
 *
 * Prints sessions/s, per-exchange latency percentiles and errors by kind,
 * and one line for scripts:
 *   FLEET sessions=N seconds=S sessions_per_s=X p50_ms=.. p99_ms=..
 *         p999_ms=.. errors=N shed=N lost=N missed=N exchanges_per_session=X
 * (shed: new sessions answered 503; lost: sessions that failed after their
 * Inform was accepted; exchanges_per_session: those of the sessions
 * counted, which ended within SECONDS: the sessions still running then
 * finish, uncounted, and their exchanges with them).
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>


#define BUF_SIZE      65536
/* 10 us buckets up to 40.96 ms, then 1 ms buckets up to 30 s */
#define HIST_FINE     4096
#define HIST_US       10
#define HIST_BUCKETS  (HIST_FINE + 30000)


typedef struct {
    int         fd;
    int         step;                 /* 0 Inform, 1 in ACS turn */
    int         exchange;             /* the session's request number */
    int         answered;             /* the session's exchanges so far */
    long        device;
    char        cookie[700];
    char        out[BUF_SIZE];
    size_t      out_len, out_off;
    char        in[BUF_SIZE];
    size_t      in_len;
    double      sent_at;
    int         accepted;             /* Inform answered 200 */
    int         challenged;           /* Inform answered 401 */
    char        auth[512];            /* Authorization, once challenged */
    uint32_t    watching;             /* the epoll events asked for */
} cpe_t;


static const char  *host = "127.0.0.1";
static int          port = 7547;
static long         devices = 1000, serial_base = 0, next_device;
static int          concurrency = 100, seconds = 10;
static const char  *events = "2 PERIODIC";
static const char  *path = "/";
static const char  *password;
static int          numbered;         /* -x */
static int          retry_shed;       /* -R */
static long        *retries;          /* -R: devices shed, to try again */
static long         nretries, retries_size;

static double       rate;             /* sessions/s; 0: closed loop */
static long         total, begun;     /* -t: a fixed number of sessions */

static long         sessions, errors, shed, lost, exchanges, missed;
static long         exchanged;        /* the exchanges of those sessions */
static long         hist[HIST_BUCKETS + 1];
static int          ep, nactive;
static cpe_t      **idle;             /* open loop: the free slots */
static int          nidle;
static double       started, next_due;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
record(double seconds_taken)
{
    long  b;

    b = (long) (seconds_taken * 1e6 / HIST_US);

    if (b >= HIST_FINE) {
        b = HIST_FINE + (b - HIST_FINE) / (1000 / HIST_US);
    }

    hist[b < HIST_BUCKETS ? b : HIST_BUCKETS]++;
    exchanges++;
}


static double
percentile(double p)
{
    long  i, seen, want;

    want = (long) (exchanges * p);
    seen = 0;

    for (i = 0; i <= HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen > want) {
            return i < HIST_FINE ? (i + 1) * HIST_US / 1000.0
                                 : HIST_FINE * HIST_US / 1000.0
                                   + (i - HIST_FINE + 1);
        }
    }

    return HIST_FINE * HIST_US / 1000.0 + (HIST_BUCKETS - HIST_FINE);
}


static void
post(cpe_t *c, const char *body, size_t len)
{
    char  number[32];

    number[0] = '\0';

    if (numbered) {
        snprintf(number, sizeof(number), "X-Exchange: %d\r\n", c->exchange);
    }

    c->exchange++;
    c->out_len = snprintf(c->out, sizeof(c->out),
                          "POST %s HTTP/1.1\r\nHost: acs\r\n"
                          "Content-Type: text/xml\r\nSOAPAction: \"\"\r\n"
                          "%s%s%s%s%s%sContent-Length: %zu\r\n\r\n", path,
                          c->cookie[0] ? "Cookie: " : "", c->cookie,
                          c->cookie[0] ? "\r\n" : "", c->auth,
                          c->auth[0] ? "\r\n" : "", number, len);

    if (c->out_len + len > sizeof(c->out)) {
        len = 0;
    }

    memcpy(c->out + c->out_len, body, len);
    c->out_len += len;
    c->out_off = 0;
    c->in_len = 0;
    c->sent_at = now();
}


static void
inform(cpe_t *c)
{
    char    body[8192], params[4096];
    size_t  n;
    int     i;

    n = 0;

    for (i = 0; i < 12; i++) {
        n += snprintf(params + n, sizeof(params) - n,
                      "<ParameterValueStruct><Name>InternetGatewayDevice."
                      "X_BENCH.Parameter%02d.Value</Name><Value xsi:type="
                      "\"xsd:string\">value-%ld-%d-abcdefghijklmnop</Value>"
                      "</ParameterValueStruct>", i, c->device, i);
    }

    n = snprintf(body, sizeof(body),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/"
        "envelope/\" xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/"
        "encoding/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"><soap-env:Header>"
        "<cwmp:ID soap-env:mustUnderstand=\"1\">%ld</cwmp:ID>"
        "</soap-env:Header><soap-env:Body><cwmp:Inform><DeviceId>"
        "<Manufacturer>Bench</Manufacturer><OUI>BE0001</OUI>"
        "<ProductClass>FLEET</ProductClass><SerialNumber>SN%08ld"
        "</SerialNumber></DeviceId><Event soap-enc:arrayType="
        "\"cwmp:EventStruct[1]\"><EventStruct><EventCode>%s</EventCode>"
        "<CommandKey></CommandKey></EventStruct></Event><MaxEnvelopes>1"
        "</MaxEnvelopes><CurrentTime>2026-11-27T00:00:00Z</CurrentTime>"
        "<RetryCount>0</RetryCount><ParameterList soap-enc:arrayType="
        "\"cwmp:ParameterValueStruct[15]\">"
        "<ParameterValueStruct><Name>InternetGatewayDevice.DeviceInfo."
        "SoftwareVersion</Name><Value xsi:type=\"xsd:string\">4.2.0"
        "</Value></ParameterValueStruct>"
        "<ParameterValueStruct><Name>InternetGatewayDevice.DeviceInfo."
        "HardwareVersion</Name><Value xsi:type=\"xsd:string\">HW1"
        "</Value></ParameterValueStruct>"
        "<ParameterValueStruct><Name>InternetGatewayDevice.ManagementServer"
        ".ConnectionRequestURL</Name><Value xsi:type=\"xsd:string\">"
        "http://10.0.0.1:7547/%ld</Value></ParameterValueStruct>%s"
        "</ParameterList></cwmp:Inform></soap-env:Body></soap-env:Envelope>",
        c->device, serial_base + c->device, events, c->device, params);

    c->cookie[0] = '\0';
    c->step = 0;
    c->exchange = 0;
    c->accepted = 0;
    post(c, body, n);
}


static void
md5_hex(const char *in, char *hex)
{
    unsigned char  md[EVP_MAX_MD_SIZE];
    unsigned int   n, i;

    EVP_Digest(in, strlen(in), md, &n, EVP_md5(), NULL);

    for (i = 0; i < n; i++) {
        sprintf(hex + 2 * i, "%02x", md[i]);
    }
}


/* the Digest answer to the challenge in c->in: 0, or -1 when none */

static int
digest(cpe_t *c)
{
    char  *p, *q, nonce[128], realm[128], user[64], buf[512];
    char   ha1[33], ha2[33], resp[33];

    p = strstr(c->in, "nonce=\"");
    q = p ? strchr(p + 7, '"') : NULL;
    if (q == NULL || q - (p + 7) >= (long) sizeof(nonce)) {
        return -1;
    }
    memcpy(nonce, p + 7, q - (p + 7));
    nonce[q - (p + 7)] = '\0';

    p = strstr(c->in, "realm=\"");
    q = p ? strchr(p + 7, '"') : NULL;
    if (q == NULL || q - (p + 7) >= (long) sizeof(realm)) {
        return -1;
    }
    memcpy(realm, p + 7, q - (p + 7));
    realm[q - (p + 7)] = '\0';

    snprintf(user, sizeof(user), "BE0001-FLEET-SN%08ld",
             serial_base + c->device);

    snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, password);
    md5_hex(buf, ha1);
    snprintf(buf, sizeof(buf), "POST:%s", path);
    md5_hex(buf, ha2);
    snprintf(buf, sizeof(buf), "%s:%s:00000001:0a4f113b:auth:%s", ha1, nonce,
             ha2);
    md5_hex(buf, resp);

    snprintf(c->auth, sizeof(c->auth),
             "Authorization: Digest username=\"%s\", realm=\"%s\", "
             "nonce=\"%s\", uri=\"%s\", qop=auth, nc=00000001, "
             "cnonce=\"0a4f113b\", response=\"%s\", algorithm=MD5",
             user, realm, nonce, path, resp);

    return 0;
}


/* the CPE's answer to an ACS request in body (NUL-terminated) */

static void
answer(cpe_t *c, char *body)
{
    char    out[BUF_SIZE / 2], id[64], method[64], *p, *q, values[8192];
    size_t  n, v;

    id[0] = '\0';
    p = strstr(body, "<cwmp:ID");
    if (p && (p = strchr(p, '>')) && (q = strstr(p, "</cwmp:ID>"))
        && q - p - 1 < (long) sizeof(id))
    {
        memcpy(id, p + 1, q - p - 1);
        id[q - p - 1] = '\0';
    }

    method[0] = '\0';
    p = strstr(body, "<soap-env:Body>");
    if (p && (p = strstr(p, "<cwmp:"))) {
        p += 6;
        for (n = 0; n < sizeof(method) - 1 && p[n] && p[n] != '>'
                    && p[n] != ' ' && p[n] != '/'; n++)
        {
            method[n] = p[n];
        }
        method[n] = '\0';
    }

    v = 0;
    values[0] = '\0';

    if (strcmp(method, "GetParameterValues") == 0) {
        for (q = body; (q = strstr(q, "<string>")); q++) {
            p = q + 8;
            q = strstr(p, "</string>");
            if (q == NULL) {
                break;
            }
            v += snprintf(values + v, sizeof(values) - v,
                          "<ParameterValueStruct><Name>%.*s</Name>"
                          "<Value xsi:type=\"xsd:string\">1</Value>"
                          "</ParameterValueStruct>", (int) (q - p), p);
            if (v >= sizeof(values)) {
                break;
            }
        }
        snprintf(out, sizeof(out), "<ParameterList>%s</ParameterList>",
                 values);

    } else if (strcmp(method, "SetParameterValues") == 0) {
        snprintf(out, sizeof(out), "<Status>0</Status>");

    } else {
        out[0] = '\0';
    }

    n = snprintf(body, BUF_SIZE / 2,
        "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/"
        "soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-"
        "instance\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\">"
        "<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">%s"
        "</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:%sResponse>%s"
        "</cwmp:%sResponse></soap-env:Body></soap-env:Envelope>",
        id, method, out, method);

    post(c, body, n);
}


static void start(cpe_t *c);


static void
finish(cpe_t *c, int ok)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    nactive--;

    if (ok && now() - started <= seconds) {
        sessions++;
        exchanged += c->answered;
    }

    /* closed loop: the next session at once; open loop: when it is due */

    if (rate > 0) {
        idle[nidle++] = c;

    } else if (now() - started < seconds
               && (total == 0 || begun < total || nretries > 0))
    {
        start(c);
    }
}


static void
fail(cpe_t *c, int status)
{
    if (status == 503 && !c->accepted) {
        shed++;

        if (retry_shed) {
            if (nretries == retries_size) {
                retries_size = retries_size ? 2 * retries_size : 1024;
                retries = realloc(retries, retries_size * sizeof(long));
                if (retries == NULL) {
                    perror("realloc");
                    exit(1);
                }
            }

            retries[nretries++] = c->device;
        }

    } else {
        errors++;
        if (c->accepted) {
            lost++;
        }
    }

    finish(c, 0);
}


static void
start(cpe_t *c)
{
    struct sockaddr_in   sa;
    struct epoll_event   ev;
    int                  one = 1;

    if (nretries > 0) {
        c->device = retries[--nretries];      /* not a new session */

    } else {
        c->device = next_device++ % devices;
        begun++;
    }

    c->challenged = 0;
    c->auth[0] = '\0';
    c->answered = 0;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, host, &sa.sin_addr);

    if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) != 0
        && errno != EINPROGRESS)
    {
        close(c->fd);
        c->fd = -1;
        errors++;

        if (rate > 0) {
            idle[nidle++] = c;
        }

        return;
    }

    nactive++;
    inform(c);

    /* writable once connected; then readable only, while a response is due */
    ev.events = EPOLLOUT;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->watching = EPOLLOUT;
}


/* a whole response in c->in? returns its status, -1 when incomplete */

static int
response(cpe_t *c, char **body, size_t *len)
{
    char    *end, *p, *q;
    long     clen;
    int      status;

    c->in[c->in_len] = '\0';

    end = strstr(c->in, "\r\n\r\n");
    if (end == NULL) {
        return -1;
    }

    status = atoi(c->in + 9);
    clen = 0;

    p = strcasestr(c->in, "\r\nContent-Length:");
    if (p && p < end) {
        clen = atol(p + 17);
    }

    if ((size_t) (end + 4 - c->in) + clen > c->in_len) {
        return -1;
    }

    p = strcasestr(c->in, "\r\nSet-Cookie: ");
    if (p && p < end) {
        p += 14;
        q = strpbrk(p, ";\r");
        if (q && (size_t) (q - p) < sizeof(c->cookie)) {
            memcpy(c->cookie, p, q - p);
            c->cookie[q - p] = '\0';
        }
    }

    *body = end + 4;
    *len = clen;

    return status;
}


static void
watch(cpe_t *c, uint32_t events_mask)
{
    struct epoll_event  ev;

    if (c->watching != events_mask) {
        ev.events = events_mask;
        ev.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->watching = events_mask;
    }
}


static void
handle(cpe_t *c, uint32_t events_mask)
{
    ssize_t  n;
    size_t   len, space;
    char    *body;
    int      status, eof;
    static char  empty[1];

    if (events_mask & (EPOLLERR | EPOLLHUP) && c->out_off < c->out_len) {
        fail(c, 0);
        return;
    }

    while (c->out_off < c->out_len) {
        n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EAGAIN) {
                watch(c, EPOLLOUT);
                return;
            }
            fail(c, 0);
            return;
        }
        c->out_off += n;
    }

    watch(c, EPOLLIN);

    if (!(events_mask & EPOLLIN)) {
        /* just sent: the response comes with a later event */
        return;
    }

    eof = 0;

    for ( ;; ) {
        space = sizeof(c->in) - 1 - c->in_len;
        n = read(c->fd, c->in + c->in_len, space);
        if (n > 0) {
            c->in_len += n;
            if ((size_t) n < space) {
                break;
            }
            continue;
        }
        if (n == 0) {
            /* "Connection: close" after a whole response is fine */
            eof = 1;
            break;
        }
        if (errno == EAGAIN) {
            break;
        }
        fail(c, 0);
        return;
    }

    status = response(c, &body, &len);
    if (status < 0) {
        if (eof) {
            fail(c, 0);
        }
        return;
    }

    record(now() - c->sent_at);
    c->answered++;

    if (c->step == 0) {
        if (status == 401 && password && !c->challenged) {
            /* the same Inform again, with credentials */
            c->challenged = 1;
            if (digest(c) != 0) {
                fail(c, status);
                return;
            }
            inform(c);
            handle(c, 0);
            return;
        }

        if (status != 200) {
            fail(c, status);
            return;
        }
        c->accepted = 1;
        c->step = 1;
        post(c, empty, 0);
        handle(c, 0);
        return;
    }

    if (status == 204) {
        finish(c, 1);
        return;
    }

    if (status != 200) {
        fail(c, status);
        return;
    }

    body[len] = '\0';
    answer(c, body);
    handle(c, 0);
}


int
main(int argc, char **argv)
{
    int                  opt, i, n, timeout;
    cpe_t               *cpes;
    double               took, span;
    struct epoll_event   evs[256];

    while ((opt = getopt(argc, argv, "h:p:n:c:d:s:e:r:t:u:a:xR")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': devices = atol(optarg); break;
        case 'c': concurrency = atoi(optarg); break;
        case 'd': seconds = atoi(optarg); break;
        case 's': serial_base = atol(optarg); break;
        case 'e': events = optarg; break;
        case 'r': rate = atof(optarg); break;
        case 't': total = atol(optarg); break;
        case 'u': path = optarg; break;
        case 'a': password = optarg; break;
        case 'x': numbered = 1; break;
        case 'R': retry_shed = 1; break;
        default:
            fprintf(stderr, "usage: cpe-fleet -p PORT -n DEVICES "
                    "-c CONCURRENCY -d SECONDS [-s BASE] [-e EVENT] "
                    "[-r RATE] [-t TOTAL] [-u PATH] [-a PASSWORD]\n");
            return 2;
        }
    }

    cpes = calloc(concurrency, sizeof(cpe_t));
    idle = calloc(concurrency, sizeof(cpe_t *));
    ep = epoll_create1(0);

    if (cpes == NULL || idle == NULL || ep < 0) {
        perror("cpe-fleet");
        return 1;
    }

    started = now();
    next_due = started;

    for (i = 0; i < concurrency; i++) {
        cpes[i].fd = -1;

        if (rate == 0) {
            if (total == 0 || begun < total) {
                start(&cpes[i]);
            }

        } else {
            idle[nidle++] = &cpes[i];
        }
    }

    while (now() - started < seconds + 5) {
        timeout = 100;

        if (rate > 0) {
            /* the sessions due by now, each on a free slot */

            while (next_due <= now() && next_due - started < seconds) {
                if (nidle > 0) {
                    start(idle[--nidle]);

                } else {
                    missed++;
                }

                next_due += 1.0 / rate;
            }

            timeout = (int) ((next_due - now()) * 1000);
            timeout = timeout < 0 ? 0 : timeout > 100 ? 100 : timeout;
        }

        n = epoll_wait(ep, evs, 256, timeout);

        for (i = 0; i < n; i++) {
            handle(evs[i].data.ptr, evs[i].events);
        }

        if ((now() - started >= seconds
             || (total && begun >= total && nretries == 0))
            && nactive == 0)
        {
            /* the sessions in progress have finished */
            break;
        }
    }

    took = now() - started;

    /* a fixed number of sessions: the rate over the time they took */

    span = total ? took : seconds;

    printf("sessions %ld in %.1f s: %.0f/s; exchanges %ld; latency p50 %.2f "
           "ms, p99 %.2f ms, p99.9 %.2f ms; errors %ld, shed %ld, lost %ld, "
           "missed %ld\n",
           sessions, took, sessions / span, exchanges,
           percentile(0.50), percentile(0.99), percentile(0.999), errors,
           shed, lost, missed);
    printf("FLEET sessions=%ld seconds=%.1f sessions_per_s=%.0f p50_ms=%.2f "
           "p99_ms=%.2f p999_ms=%.2f errors=%ld shed=%ld lost=%ld "
           "missed=%ld exchanges_per_session=%.2f\n",
           sessions, span, sessions / span, percentile(0.50),
           percentile(0.99), percentile(0.999), errors, shed, lost, missed,
           sessions ? (double) exchanged / sessions : 0);

    return 0;
}
