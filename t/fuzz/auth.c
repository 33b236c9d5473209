
/*
 * Copyright (C) ngx_cwmp authors
 *
 * libFuzzer harness: an Authorization header as a CPE sends it, through
 * the credentials reader (ngx_http_cwmp_auth_parse()), the nonce check and
 * the Digest / Basic verification against fixed credentials; and the same
 * bytes as a WWW-Authenticate challenge through the auth-param reader the
 * connection request client uses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_auth.h"

#include "ngx_fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *copy;
    ngx_str_t                    header, realm, method, bootstrap, addr;
    ngx_str_t                    secret, value;
    ngx_pool_t                  *pool;
    ngx_http_cwmp_auth_t         auth;
    ngx_http_cwmp_auth_creds_t   creds;

    static char  *params[] = { "realm", "nonce", "qop", "opaque",
                               "algorithm", "stale", NULL };
    char       **p;

    if (size > 8192) {
        return 0;
    }

    ngx_fuzz_init();

    pool = ngx_create_pool(4096, &ngx_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    /* exactly the input's bytes: reading past them is ASan's to catch */

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    memcpy(copy, data, size);

    header.data = copy;
    header.len = size;

    ngx_str_set(&realm, "cwmp");
    ngx_str_set(&method, "POST");
    ngx_str_set(&bootstrap, "cwmp-demo");
    ngx_str_set(&addr, "192.0.2.1");
    ngx_str_set(&secret, "fuzzing secret, sixteen bytes+");

    if (ngx_http_cwmp_auth_parse(pool, &header, &auth) == NGX_OK) {
        /* a value is never longer than the header it came from */

        if (auth.username.len > size || auth.response.len > size) {
            abort();
        }

        if (!auth.basic) {
            (void) ngx_http_cwmp_auth_nonce_check(&secret, &addr,
                                                  &auth.nonce, 300000);
            (void) ngx_http_cwmp_auth_uri(&auth.uri, &method);
        }

        ngx_memzero(&creds, sizeof(creds));
        ngx_str_set(&creds.password, "pw");
        ngx_str_set(&creds.ha1_md5, "0123456789abcdef0123456789abcdef");
        ngx_str_set(&creds.previous_password, "old");

        (void) ngx_http_cwmp_auth_verify(pool, &auth, &realm, &method,
                                         &creds, &bootstrap);

        ngx_memzero(&creds, sizeof(creds));

        (void) ngx_http_cwmp_auth_verify(pool, &auth, &realm, &method,
                                         &creds, &bootstrap);
    }

    for (p = params; *p; p++) {
        if (ngx_http_cwmp_auth_param(pool, copy, copy + size, *p, &value)
            == NGX_OK
            && value.len > size)
        {
            abort();
        }
    }

    free(copy);
    ngx_destroy_pool(pool);

    return 0;
}
