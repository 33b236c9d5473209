
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The upload receiver: where the files CPEs upload go (an upload task
 * with no "url", backupConfig, uploadLog).  The flow:
 *
 *   1. the task goes out with a URL of its own, signed for the device,
 *      the task's CommandKey, the kind (backup, log) and a size cap, with
 *      a name the ACS chose (no CPE string reaches a path):
 *      <cwmp_uploads_url><name>?d=&e=&t=&k=&c=&s=
 *   2. the CPE PUTs (or POSTs) the file there: nginx writes the body to a
 *      temporary file (never whole in memory), the body filter below
 *      counts and hashes it on the way; the file is linked into the
 *      receiver's directory under its name, and recorded on the device's
 *      slot (upload_stored.lua): its size, SHA-256, time, host, path
 *   3. the CPE's TransferComplete finishes the task with a result that
 *      names the file (pending.lua); a backup or a log is kept among the
 *      device's newest cwmp_uploads_kept, the older ones deleted.
 *
 * Threat model: the URL is a bearer credential for one upload of one
 * task of one device, until it expires.  A wrong or foreign signature, a
 * name outside the store's form, an expired URL: 403.  A body over the
 * cap (Content-Length, or counted while a chunked body arrives): 413.  A
 * second upload to the same URL: 409 (link(2) refuses an existing name;
 * upload_stored.lua refuses a second name for the task).  A slow upload:
 * client_body_timeout.  Whatever fails, nothing partial stays: the
 * temporary file is nginx's to delete, the linked file is unlinked when
 * it could not be recorded.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_upload.h"
#include "ngx_http_cwmp_file_access.h"
#include "ngx_http_cwmp_util.h"


#define NGX_HTTP_CWMP_UPLOAD_RANDOM  12         /* hex digits of a name */


/* an upload being received */

typedef struct {
    ngx_keyval_t                 args[3];       /* t, k, c: signed */
    ngx_str_t                    device;
    ngx_str_t                    name;
    ngx_str_t                    path;          /* in the directory */
    off_t                        cap;
    off_t                        size;          /* counted so far */
    EVP_MD_CTX                  *sha256;
    ngx_uint_t                   linked;        /* path is there: unlink
                                                   it unless recorded */
    ngx_uint_t                   answered;      /* stored, or refused */
    ngx_http_cwmp_store_owner_t  owner;
    ngx_http_cwmp_store_upload_t up;
} ngx_http_cwmp_upload_ctx_t;


static ngx_int_t ngx_http_cwmp_upload_handler(ngx_http_request_t *r);
static void ngx_http_cwmp_upload_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_upload_record(ngx_http_request_t *r,
    ngx_http_cwmp_upload_ctx_t *ctx);
static void ngx_http_cwmp_upload_recorded(void *data, ngx_int_t rc);
static void ngx_http_cwmp_upload_unlink(ngx_http_request_t *r,
    ngx_http_cwmp_upload_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_upload_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_cwmp_upload_cleanup(void *data);
static char *ngx_http_cwmp_upload_file_type(ngx_str_t *kind);


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;


void
ngx_http_cwmp_upload_create_conf(ngx_http_cwmp_upload_conf_t *conf)
{
    conf->ttl = NGX_CONF_UNSET;
    conf->max_size = NGX_CONF_UNSET;
    conf->kept = NGX_CONF_UNSET_UINT;
}


char *
ngx_http_cwmp_upload_init_conf(ngx_conf_t *cf,
    ngx_http_cwmp_upload_conf_t *conf)
{
    ngx_conf_init_value(conf->ttl, 3600);
    ngx_conf_init_value(conf->max_size, 64 * 1024 * 1024);
    ngx_conf_init_uint_value(conf->kept, 5);

    if (conf->url.len && ngx_http_cwmp_file_base_valid(&conf->url) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"cwmp_uploads_url\" \"%V\": an http:// "
                           "or https:// URL ending in \"/\" expected",
                           &conf->url);
        return NGX_CONF_ERROR;
    }

    if (conf->kept == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_uploads_kept\" must be at least 1");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* cwmp_uploads_credentials <username> <password-file> */

char *
ngx_http_cwmp_upload_credentials(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                    *value, file;
    ngx_http_cwmp_upload_conf_t  *ucf;

    ucf = (ngx_http_cwmp_upload_conf_t *) ((char *) conf + cmd->offset);

    if (ucf->username.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ucf->username = value[1];
    file = value[2];

    /* the password: the file's first line, never in the configuration */

    if (ngx_http_cwmp_conf_password(cf, &file, &ucf->password) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* cwmp_upload_receiver <directory>: the location's content handler */

char *
ngx_http_cwmp_upload_receiver(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->upload_dir.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->upload_dir = value[1];

    if (ngx_conf_full_name(cf->cycle, &lcf->upload_dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    while (lcf->upload_dir.len > 1
           && lcf->upload_dir.data[lcf->upload_dir.len - 1] == '/')
    {
        lcf->upload_dir.len--;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_cwmp_upload_handler;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_cwmp_upload_url(ngx_pool_t *pool, ngx_http_cwmp_upload_conf_t *conf,
    ngx_str_t *secret, ngx_str_t *device, ngx_http_cwmp_task_file_t *file,
    ngx_log_t *log)
{
    u_char        *p, *cap;
    ngx_keyval_t   extra[3];

    file->read = 1;

    if (conf->url.len == 0) {
        file->error = "no upload receiver here (cwmp_uploads_url)";
        return NGX_OK;
    }

    /* <kind>-<unix time>-<random>.<cfg|log|bin> */

    file->name.data = ngx_pnalloc(pool, sizeof("upload--.bin") - 1
                                        + NGX_TIME_T_LEN
                                        + NGX_HTTP_CWMP_UPLOAD_RANDOM);
    cap = ngx_pnalloc(pool, NGX_OFF_T_LEN);

    if (file->name.data == NULL || cap == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(file->name.data, "%s-%T-",
                    file->kind.len ? (char *) file->kind.data : "upload",
                    ngx_time());

    if (ngx_http_cwmp_random_hex(p, NGX_HTTP_CWMP_UPLOAD_RANDOM, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p += NGX_HTTP_CWMP_UPLOAD_RANDOM;
    p = ngx_cpymem(p, file->kind.len == 0 ? ".bin"
                      : file->kind.data[0] == 'l' ? ".log" : ".cfg", 4);
    file->name.len = p - file->name.data;

    ngx_str_set(&extra[0].key, "t");
    extra[0].value = file->command_key;
    ngx_str_set(&extra[1].key, "k");
    extra[1].value = file->kind;
    ngx_str_set(&extra[2].key, "c");
    extra[2].value.data = cap;
    extra[2].value.len = ngx_sprintf(cap, "%O", conf->max_size) - cap;

    if (conf->username.len) {
        file->username = conf->username;
        file->password = conf->password;
    }

    return ngx_http_cwmp_file_signed_url(pool, secret, "upload", &conf->url,
                                         &file->name, device,
                                         ngx_time() + conf->ttl, extra, 3,
                                         &file->url);
}


/* a PUT or POST to the receiver: checked, then its body read to a file */

static ngx_int_t
ngx_http_cwmp_upload_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_pool_cleanup_t          *cln;
    ngx_http_cwmp_main_conf_t   *mcf;
    ngx_http_cwmp_upload_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_PUT | NGX_HTTP_POST))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_cwmp_upload_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&ctx->args[0].key, "t");
    ngx_str_set(&ctx->args[1].key, "k");
    ngx_str_set(&ctx->args[2].key, "c");

    rc = ngx_http_cwmp_file_verify(r, &mcf->auth_secret, "upload", ctx->args,
                                   3, &ctx->device, &ctx->name);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->cap = ngx_atoof(ctx->args[2].value.data, ctx->args[2].value.len);

    if (ctx->cap == NGX_ERROR || ctx->args[0].value.len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cwmp: upload \"%V\": a signed URL without a task "
                      "or a cap", &r->uri);
        return NGX_HTTP_FORBIDDEN;
    }

    if (r->headers_in.content_length_n > ctx->cap) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: upload \"%V\" of device \"%V\": %O bytes, over "
                      "its cap of %O", &r->uri, &ctx->device,
                      r->headers_in.content_length_n, ctx->cap);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->sha256 = EVP_MD_CTX_new();

    if (ctx->sha256 == NULL
        || EVP_DigestInit_ex(ctx->sha256, EVP_sha256(), NULL) != 1)
    {
        if (ctx->sha256) {
            EVP_MD_CTX_free(ctx->sha256);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_cwmp_upload_cleanup;
    cln->data = ctx;
    ctx->owner.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_http_cwmp_module);

    r->request_body_in_file_only = 1;
    r->request_body_in_persistent_file = 1;
    r->request_body_in_clean_file = 1;
    r->request_body_file_log_level = 0;

    rc = ngx_http_read_client_request_body(r, ngx_http_cwmp_upload_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the body is in its temporary file: linked into the directory, recorded */

static void
ngx_http_cwmp_upload_body(ngx_http_request_t *r)
{
    ngx_err_t                    err;
    ngx_str_t                   *temp;
    ngx_http_cwmp_loc_conf_t    *lcf;
    ngx_http_cwmp_upload_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    /* the body is all here: whatever follows says why it is refused */
    ctx->answered = 1;

    if (r->request_body == NULL || r->request_body->temp_file == NULL
        || ctx->size == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: upload \"%V\" of device \"%V\" is empty",
                      &r->uri, &ctx->device);
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        return;
    }

    ctx->path.len = lcf->upload_dir.len + 1 + ctx->name.len;
    ctx->path.data = ngx_pnalloc(r->pool, ctx->path.len + 1);
    if (ctx->path.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    (void) ngx_sprintf(ctx->path.data, "%V/%V%Z", &lcf->upload_dir,
                       &ctx->name);

    /* link(2): a name that exists is refused, so a URL uploads once */

    temp = &r->request_body->temp_file->file.name;

    if (link((char *) temp->data, (char *) ctx->path.data) == -1) {
        err = ngx_errno;

        if (err == NGX_EEXIST) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "cwmp: upload \"%V\" of device \"%V\" was "
                          "received already: refused", &r->uri,
                          &ctx->device);
            ngx_http_finalize_request(r, NGX_HTTP_CONFLICT);
            return;
        }

        ngx_log_error(NGX_LOG_CRIT, r->connection->log, err,
                      "cwmp: link() \"%V\" to \"%V\" failed (the "
                      "client_body_temp_path must be on the file system "
                      "of cwmp_upload_receiver)", temp, &ctx->path);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->linked = 1;

    switch (ngx_http_cwmp_upload_record(r, ctx)) {

    case NGX_DONE:
        return;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cwmp: upload \"%V\" of device \"%V\": redis is "
                      "unavailable, refused", &r->uri, &ctx->device);
        ngx_http_cwmp_upload_unlink(r, ctx);
        ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;

    default:
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cwmp: upload \"%V\" of device \"%V\" could not be "
                      "recorded", &r->uri, &ctx->device);
        ngx_http_cwmp_upload_unlink(r, ctx);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
}


/* the file's record on the device's slot */

static ngx_int_t
ngx_http_cwmp_upload_record(ngx_http_request_t *r,
    ngx_http_cwmp_upload_ctx_t *ctx)
{
    u_char                        digest[EVP_MAX_MD_SIZE], hex[64];
    char                         *type;
    json_t                       *f;
    unsigned int                  n;
    ngx_http_cwmp_main_conf_t    *mcf;
    ngx_http_cwmp_store_upload_t *up;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (EVP_DigestFinal_ex(ctx->sha256, digest, &n) != 1 || n != 32) {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, digest, 32);

    up = &ctx->up;
    up->device_id = ctx->device;
    up->command_key = ctx->args[0].value;
    up->kind = ctx->args[1].value;
    up->name = ctx->name;
    up->keep = mcf->uploads.kept;

    type = ngx_http_cwmp_upload_file_type(&up->kind);

    f = json_pack("{s: s%, s: s%, s: I, s: s%, s: I, s: s%, s: s%, s: s%}",
                  "name", ctx->name.data, ctx->name.len,
                  "kind", up->kind.data, up->kind.len,
                  "size", (json_int_t) ctx->size,
                  "sha256", hex, (size_t) 64,
                  "time", (json_int_t) ngx_time(),
                  "task", up->command_key.data, up->command_key.len,
                  "host", ngx_cycle->hostname.data, ngx_cycle->hostname.len,
                  "path", ctx->path.data, ctx->path.len);

    if (f == NULL
        || (type && json_object_set_new(f, "fileType", json_string(type))
                    != 0)
        || ngx_http_cwmp_task_json(r->pool, f, &up->file) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->owner.pool = r->pool;
    ctx->owner.log = r->connection->log;
    ctx->owner.data = r;

    return ngx_http_cwmp_store_upload(&mcf->store, &ctx->owner, up,
                                      ngx_http_cwmp_upload_recorded);
}


static void
ngx_http_cwmp_upload_recorded(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_str_t                   *dropped, path;
    ngx_uint_t                   i;
    ngx_http_cwmp_loc_conf_t    *lcf;
    ngx_http_cwmp_upload_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cwmp: upload \"%V\" of device \"%V\" could not be "
                      "recorded: refused", &r->uri, &ctx->device);
        ngx_http_cwmp_upload_unlink(r, ctx);
        ngx_http_finalize_request(r, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    if (ctx->up.reused) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: task \"%V\" of device \"%V\" has its upload "
                      "already: \"%V\" refused", &ctx->up.command_key,
                      &ctx->device, &r->uri);
        ngx_http_cwmp_upload_unlink(r, ctx);
        ngx_http_finalize_request(r, NGX_HTTP_CONFLICT);
        return;
    }

    ctx->linked = 0;
    ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_UPLOADS_STORED);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: upload \"%V\" of device \"%V\" stored: %O bytes",
                  &ctx->path, &ctx->device, ctx->size);

    /* the device's backups (logs) beyond the newest kept */

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    dropped = ctx->up.dropped.elts;

    for (i = 0; i < ctx->up.dropped.nelts; i++) {
        if (ngx_http_cwmp_file_name_valid(&dropped[i]) != NGX_OK) {
            continue;
        }

        path.len = lcf->upload_dir.len + 1 + dropped[i].len;
        path.data = ngx_pnalloc(r->pool, path.len + 1);
        if (path.data == NULL) {
            break;
        }

        (void) ngx_sprintf(path.data, "%V/%V%Z", &lcf->upload_dir,
                           &dropped[i]);

        if (ngx_delete_file(path.data) == NGX_FILE_ERROR
            && ngx_errno != NGX_ENOENT)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                          ngx_delete_file_n " \"%s\" failed", path.data);

        } else {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "cwmp: \"%V\" of device \"%V\" no longer kept",
                          &dropped[i], &ctx->device);
        }
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    ngx_http_finalize_request(r, ngx_http_send_header(r));
}


static void
ngx_http_cwmp_upload_unlink(ngx_http_request_t *r,
    ngx_http_cwmp_upload_ctx_t *ctx)
{
    if (!ctx->linked) {
        return;
    }

    ctx->linked = 0;

    if (ngx_delete_file(ctx->path.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_delete_file_n " \"%V\" failed", &ctx->path);
    }
}


ngx_int_t
ngx_http_cwmp_upload_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_cwmp_upload_body_filter;

    return NGX_OK;
}


/* an upload's body on its way to the file: counted, capped, hashed */

static ngx_int_t
ngx_http_cwmp_upload_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                       n;
    ngx_chain_t                 *cl;
    ngx_http_cwmp_loc_conf_t    *lcf;
    ngx_http_cwmp_upload_ctx_t  *ctx;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (lcf->upload_dir.len == 0 || ctx == NULL || ctx->sha256 == NULL) {
        return ngx_http_next_request_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        if (!ngx_buf_in_memory(cl->buf)) {
            continue;
        }

        n = cl->buf->last - cl->buf->pos;
        ctx->size += n;

        if (ctx->size > ctx->cap) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "cwmp: upload \"%V\" of device \"%V\": over its "
                          "cap of %O bytes", &r->uri, &ctx->device,
                          ctx->cap);
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        if (n && EVP_DigestUpdate(ctx->sha256, cl->buf->pos, n) != 1) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_next_request_body_filter(r, in);
}


static void
ngx_http_cwmp_upload_cleanup(void *data)
{
    ngx_http_cwmp_upload_ctx_t *ctx = data;

    EVP_MD_CTX_free(ctx->sha256);
    ctx->sha256 = NULL;

    if (ctx->linked || !ctx->answered) {
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_UPLOADS_REFUSED);
    }

    if (!ctx->answered) {
        /* timed out (client_body_timeout), the client gone, over the cap:
         * nginx deletes the temporary file */
        ngx_log_error(NGX_LOG_INFO, ctx->owner.log, 0,
                      "cwmp: upload \"%V\" of device \"%V\" not completed "
                      "(%O bytes received): nothing kept", &ctx->name,
                      &ctx->device, ctx->size);
    }

    /* the client left while the record was being written */

    if (ctx->linked) {
        if (ngx_delete_file(ctx->path.data) == NGX_FILE_ERROR) {
            ngx_log_error(NGX_LOG_CRIT, ngx_cycle->log, ngx_errno,
                          ngx_delete_file_n " \"%V\" failed", &ctx->path);
        }
    }
}


static char *
ngx_http_cwmp_upload_file_type(ngx_str_t *kind)
{
    if (kind->len == 0) {
        return NULL;
    }

    return kind->data[0] == 'b' ? "1 Vendor Configuration File"
                                : "2 Vendor Log File";
}
