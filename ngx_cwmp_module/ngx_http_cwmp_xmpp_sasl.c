
/*
 * Copyright (C) ngx_cwmp authors
 *
 * SASL for the XMPP client (ngx_http_cwmp_xmpp.c): SCRAM-SHA-256 (RFC
 * 7677) where the server offers it, else SCRAM-SHA-1 (RFC 5802), PLAIN
 * (RFC 4616) only over TLS.  SCRAM without channel binding ("n,,"); the
 * server's final signature is checked, so a server that does not know the
 * password cannot pretend the log-in worked.  Hashes, HMAC and PBKDF2 are
 * OpenSSL's; nothing here knows the stream.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_cwmp_xmpp_sasl.h"
#include "ngx_http_cwmp_util.h"


#define NGX_HTTP_CWMP_SASL_NS  "urn:ietf:params:xml:ns:xmpp-sasl"
#define NGX_HTTP_CWMP_SASL_ITERATIONS_MAX  100000


static const EVP_MD *ngx_http_cwmp_sasl_md(ngx_http_cwmp_sasl_scram_t *sc);
static u_char *ngx_http_cwmp_sasl_element(u_char *buf, u_char *last,
    char *open, u_char *raw, size_t len);


ngx_uint_t
ngx_http_cwmp_sasl_choose(ngx_uint_t offered, ngx_uint_t secure)
{
    if (offered & NGX_HTTP_CWMP_SASL_SCRAM_SHA256) {
        return NGX_HTTP_CWMP_SASL_SCRAM_SHA256;
    }

    if (offered & NGX_HTTP_CWMP_SASL_SCRAM_SHA1) {
        return NGX_HTTP_CWMP_SASL_SCRAM_SHA1;
    }

    if ((offered & NGX_HTTP_CWMP_SASL_PLAIN) && secure) {
        return NGX_HTTP_CWMP_SASL_PLAIN;
    }

    return 0;
}


ngx_uint_t
ngx_http_cwmp_sasl_mechanism(u_char *name, size_t len)
{
    static struct {
        ngx_str_t   name;
        ngx_uint_t  bit;
    } known[] = {
        { ngx_string("PLAIN"), NGX_HTTP_CWMP_SASL_PLAIN },
        { ngx_string("SCRAM-SHA-1"), NGX_HTTP_CWMP_SASL_SCRAM_SHA1 },
        { ngx_string("SCRAM-SHA-256"), NGX_HTTP_CWMP_SASL_SCRAM_SHA256 }
    };

    ngx_uint_t  i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (len == known[i].name.len
            && ngx_strncmp(name, known[i].name.data, len) == 0)
        {
            return known[i].bit;
        }
    }

    return 0;
}


char *
ngx_http_cwmp_sasl_name(ngx_uint_t mechanism)
{
    switch (mechanism) {
    case NGX_HTTP_CWMP_SASL_PLAIN:
        return "PLAIN";
    case NGX_HTTP_CWMP_SASL_SCRAM_SHA1:
        return "SCRAM-SHA-1";
    case NGX_HTTP_CWMP_SASL_SCRAM_SHA256:
        return "SCRAM-SHA-256";
    default:
        return "none";
    }
}


u_char *
ngx_http_cwmp_sasl_plain(u_char *buf, u_char *last, ngx_str_t *user,
    ngx_str_t *password)
{
    u_char  raw[600], *p;

    if (user->len + password->len + 2 > sizeof(raw)) {
        return NULL;
    }

    /* authzid \0 authcid \0 password */
    p = raw;
    *p++ = '\0';
    p = ngx_cpymem(p, user->data, user->len);
    *p++ = '\0';
    p = ngx_cpymem(p, password->data, password->len);

    p = ngx_http_cwmp_sasl_element(buf, last,
                                   "<auth xmlns='" NGX_HTTP_CWMP_SASL_NS "' "
                                   "mechanism='PLAIN'>", raw, p - raw);
    ngx_explicit_memzero(raw, sizeof(raw));

    return p;
}


/* client-first: "n,,n=<user>,r=<nonce>" */

u_char *
ngx_http_cwmp_sasl_scram_first(ngx_http_cwmp_sasl_scram_t *sc, u_char *buf,
    u_char *last, ngx_str_t *user, ngx_log_t *log)
{
    u_char  raw[600], *p;

    if (user->len > 256
        || ngx_http_cwmp_random_hex(sc->cnonce, 24, log) != NGX_OK)
    {
        return NULL;
    }

    sc->cnonce[24] = '\0';

    /* the JID's localpart: no ',' or '=' (RFC 5802 saslname) to escape
     * in an XMPP username of the operator's */
    p = ngx_sprintf(raw, "n,,n=%V,r=%s", user, sc->cnonce);

    sc->auth_message_len = p - raw - 3;
    ngx_memcpy(sc->auth_message, raw + 3, sc->auth_message_len);

    return ngx_http_cwmp_sasl_element(buf, last,
               sc->mechanism == NGX_HTTP_CWMP_SASL_SCRAM_SHA256
               ? "<auth xmlns='" NGX_HTTP_CWMP_SASL_NS "' "
                 "mechanism='SCRAM-SHA-256'>"
               : "<auth xmlns='" NGX_HTTP_CWMP_SASL_NS "' "
                 "mechanism='SCRAM-SHA-1'>",
               raw, p - raw);
}


/*
 * The server-first message "r=<nonce>,s=<salt>,i=<iterations>" (base64 in
 * the challenge): the client-final "c=biws,r=<nonce>,p=<proof>", and the
 * server signature remembered for the success.
 */

u_char *
ngx_http_cwmp_sasl_scram_final(ngx_http_cwmp_sasl_scram_t *sc, u_char *buf,
    u_char *last, ngx_str_t *password, ngx_str_t *challenge)
{
    u_char         first[768], salt[128], final[768];
    u_char         salted[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char         client_key[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char         stored_key[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char         server_key[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char         signature[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char         proof[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char        *p, *r, *s, *i, *end;
    size_t         rlen, flen, hlen, k;
    ngx_int_t      iterations;
    ngx_str_t      in, out;
    unsigned int   mlen;
    const EVP_MD  *md;

    md = ngx_http_cwmp_sasl_md(sc);
    hlen = EVP_MD_size(md);

    if (ngx_base64_decoded_length(challenge->len) >= sizeof(first)) {
        return NULL;
    }

    out.data = first;

    if (ngx_decode_base64(&out, challenge) != NGX_OK) {
        return NULL;
    }

    end = first + out.len;
    r = ngx_strlcasestrn(first, end, (u_char *) "r=", 1);
    s = ngx_strlcasestrn(first, end, (u_char *) ",s=", 2);
    i = ngx_strlcasestrn(first, end, (u_char *) ",i=", 2);

    if (r != first || s == NULL || i == NULL || s > i) {
        return NULL;
    }

    r += 2;
    rlen = s - r;

    /* the server's nonce starts with ours */
    if (rlen <= 24 || ngx_strncmp(r, sc->cnonce, 24) != 0) {
        return NULL;
    }

    in.data = s + 3;
    in.len = i - s - 3;

    if (ngx_base64_decoded_length(in.len) > sizeof(salt)) {
        return NULL;
    }

    out.data = salt;

    if (ngx_decode_base64(&out, &in) != NGX_OK || out.len == 0) {
        return NULL;
    }

    p = ngx_strlchr(i + 3, end, ',');
    iterations = ngx_atoi(i + 3, (p ? p : end) - i - 3);

    if (iterations < 1 || iterations > NGX_HTTP_CWMP_SASL_ITERATIONS_MAX) {
        return NULL;
    }

    if (PKCS5_PBKDF2_HMAC((char *) password->data, (int) password->len,
                          salt, (int) out.len, (int) iterations, md,
                          (int) hlen, salted)
        != 1)
    {
        return NULL;
    }

    /* AuthMessage = client-first-bare "," server-first ","
     *               client-final-without-proof */

    flen = ngx_snprintf(final, sizeof(final) - 128, "c=biws,r=%*s", rlen, r)
           - final;

    if (sc->auth_message_len + (end - first) + flen + 2
        > sizeof(sc->auth_message))
    {
        return NULL;
    }

    p = sc->auth_message + sc->auth_message_len;
    *p++ = ',';
    p = ngx_cpymem(p, first, end - first);
    *p++ = ',';
    p = ngx_cpymem(p, final, flen);
    sc->auth_message_len = p - sc->auth_message;

    /* ClientKey = HMAC(SaltedPassword, "Client Key"); StoredKey = H(it);
     * ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage) */

    if (HMAC(md, salted, (int) hlen, (u_char *) "Client Key", 10,
             client_key, &mlen) == NULL
        || EVP_Digest(client_key, hlen, stored_key, &mlen, md, NULL) != 1
        || HMAC(md, stored_key, (int) hlen, sc->auth_message,
                sc->auth_message_len, signature, &mlen) == NULL
        || HMAC(md, salted, (int) hlen, (u_char *) "Server Key", 10,
                server_key, &mlen) == NULL
        || HMAC(md, server_key, (int) hlen, sc->auth_message,
                sc->auth_message_len, sc->server_signature, &mlen) == NULL)
    {
        ngx_explicit_memzero(salted, sizeof(salted));
        return NULL;
    }

    for (k = 0; k < hlen; k++) {
        proof[k] = client_key[k] ^ signature[k];
    }

    ngx_explicit_memzero(salted, sizeof(salted));
    ngx_explicit_memzero(client_key, sizeof(client_key));

    in.data = proof;
    in.len = hlen;
    out.data = final + flen + 3;
    ngx_memcpy(final + flen, ",p=", 3);
    ngx_encode_base64(&out, &in);

    return ngx_http_cwmp_sasl_element(buf, last,
                                      "<response xmlns='"
                                      NGX_HTTP_CWMP_SASL_NS "'>",
                                      final, flen + 3 + out.len);
}


/* server-final: "v=<ServerSignature>" (base64 in the success) */

ngx_int_t
ngx_http_cwmp_sasl_scram_verify(ngx_http_cwmp_sasl_scram_t *sc,
    ngx_str_t *success)
{
    u_char     text[128], signature[NGX_HTTP_CWMP_SASL_HASH_MAX + 3];
    size_t     hlen;
    ngx_str_t  in, out;

    hlen = EVP_MD_size(ngx_http_cwmp_sasl_md(sc));

    if (ngx_base64_decoded_length(success->len) > sizeof(text)) {
        return NGX_DECLINED;
    }

    out.data = text;

    if (ngx_decode_base64(&out, success) != NGX_OK
        || out.len < 3 || ngx_strncmp(text, "v=", 2) != 0)
    {
        return NGX_DECLINED;
    }

    in.data = text + 2;
    in.len = out.len - 2;

    if (ngx_base64_decoded_length(in.len) > sizeof(signature)) {
        return NGX_DECLINED;
    }

    out.data = signature;

    if (ngx_decode_base64(&out, &in) != NGX_OK || out.len != hlen
        || CRYPTO_memcmp(signature, sc->server_signature, hlen) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static const EVP_MD *
ngx_http_cwmp_sasl_md(ngx_http_cwmp_sasl_scram_t *sc)
{
    return sc->mechanism == NGX_HTTP_CWMP_SASL_SCRAM_SHA256 ? EVP_sha256()
                                                            : EVP_sha1();
}


/* <open>base64(raw)</auth|response> */

static u_char *
ngx_http_cwmp_sasl_element(u_char *buf, u_char *last, char *open,
    u_char *raw, size_t len)
{
    size_t     n;
    ngx_str_t  in, out;

    n = ngx_strlen(open);

    if ((size_t) (last - buf)
        < n + ngx_base64_encoded_length(len) + sizeof("</response>"))
    {
        return NULL;
    }

    buf = ngx_cpymem(buf, open, n);

    in.data = raw;
    in.len = len;
    out.data = buf;
    ngx_encode_base64(&out, &in);
    buf += out.len;

    if (open[1] == 'a') {
        return ngx_cpymem(buf, "</auth>", sizeof("</auth>") - 1);
    }

    return ngx_cpymem(buf, "</response>", sizeof("</response>") - 1);
}
