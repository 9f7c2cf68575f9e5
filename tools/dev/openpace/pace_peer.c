/*
 * pace_peer: OpenPACE (libeac) as a PACE terminal or chip, spoken to over a pipe, for interoperability
 * tests of mynacard.apdu.sm (tests/test_pace_openpace.py). Built at test time; never committed as a binary.
 *
 *   pace_peer terminal EF_CARDACCESS_HEX SECRET_TYPE SECRET [FID_HEX]
 *   pace_peer chip     EF_CARDACCESS_HEX SECRET_TYPE SECRET FILE_HEX
 *
 * SECRET_TYPE is OpenPACE's enum s_type (1 MRZ, 2 CAN, 3 PIN, 4 PUK). Every line is hex.
 * terminal: writes "C <command APDU>" and reads the response APDU (data + SW) as one line; runs MSE:Set AT,
 *           the four GENERAL AUTHENTICATE steps, then SM SELECT of FID_HEX (default 01 1C) and SM READ
 *           BINARY (Le 00); ends
 *           with "OK <plain data read>" or "ERR <reason>".
 * chip:     reads command APDUs, writes response APDUs: MSE:Set AT, the four steps, then any number of
 *           SM SELECT / READ BINARY on the one file FILE_HEX; an SM error is answered 69 88 in plain.
 *
 * PACE is OpenPACE's (PACE_STEP1..3D); SM uses its EAC_encrypt/EAC_decrypt/EAC_authenticate with the SSC it
 * keeps; this file only frames APDUs and TLVs (ICAO Doc 9303-11 §9.8, BSI TR-03110-3 §B.11, §F.2).
 */
#include <eac/eac.h>
#include <eac/pace.h>
#include <openssl/buffer.h>
#include <openssl/objects.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_APDU 4096

typedef struct {
    unsigned char data[MAX_APDU];
    size_t len;
} bytes_t;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ERR ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static void put(bytes_t *b, const void *data, size_t len)
{
    if (b->len + len > MAX_APDU)
        die("APDU too long");
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_byte(bytes_t *b, unsigned char c) { put(b, &c, 1); }

static void put_tlv(bytes_t *b, unsigned char tag, const unsigned char *value, size_t len)
{
    put_byte(b, tag);
    if (len >= 0x100) {
        put_byte(b, 0x82);
        put_byte(b, (unsigned char)(len >> 8));
    } else if (len >= 0x80) {
        put_byte(b, 0x81);
    }
    put_byte(b, (unsigned char)len);
    put(b, value, len);
}

/* Find the first data object with `tag` in data[0..len); returns its value or NULL. */
static const unsigned char *find_tlv(const unsigned char *data, size_t len, unsigned char tag, size_t *out_len)
{
    size_t pos = 0;
    while (pos + 2 <= len) {
        unsigned char t = data[pos++];
        size_t l = data[pos++];
        if (l == 0x81 || l == 0x82) {
            size_t n = l & 0x7F;
            if (pos + n > len)
                return NULL;
            l = n == 1 ? data[pos] : (size_t)data[pos] << 8 | data[pos + 1];
            pos += n;
        } else if (l > 0x80) {
            return NULL;
        }
        if (pos + l > len)
            return NULL;
        if (t == tag) {
            *out_len = l;
            return data + pos;
        }
        pos += l;
    }
    return NULL;
}

static BUF_MEM *buf(const unsigned char *data, size_t len)
{
    BUF_MEM *m = BUF_MEM_new();
    if (!m || !BUF_MEM_grow(m, len))
        die("out of memory");
    memcpy(m->data, data, len);
    m->length = len;
    return m;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void from_hex(const char *hex, bytes_t *out)
{
    out->len = 0;
    for (size_t i = 0; hex[i] && hex[i] != '\n' && hex[i] != '\r'; i += 2) {
        int hi = hex_value(hex[i]), lo = hex[i + 1] ? hex_value(hex[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            die("bad hex");
        put_byte(out, (unsigned char)(hi << 4 | lo));
    }
}

static void print_hex(const char *prefix, const unsigned char *data, size_t len)
{
    printf("%s", prefix);
    for (size_t i = 0; i < len; i++)
        printf("%02X", data[i]);
    printf("\n");
    fflush(stdout);
}

static int read_line(bytes_t *out)
{
    static char line[2 * MAX_APDU + 8];
    if (!fgets(line, sizeof line, stdin))
        return 0;
    from_hex(line, out);
    return 1;
}

/* -- SM (TR-03110-3 §F.2): encrypt-then-MAC with the SSC OpenPACE keeps ------------------------------------ */

static BUF_MEM *padded(const EAC_CTX *ctx, const unsigned char *data, size_t len)
{
    BUF_MEM *in = buf(data, len), *out = EAC_add_iso_pad(ctx, in);
    BUF_MEM_free(in);
    if (!out)
        die("padding failed");
    return out;
}

static void put_mac(const EAC_CTX *ctx, bytes_t *out, const bytes_t *mac_input)
{
    BUF_MEM *p = padded(ctx, mac_input->data, mac_input->len), *mac = EAC_authenticate(ctx, p);
    if (!mac || mac->length != 8)
        die("MAC failed");
    put_tlv(out, 0x8E, (unsigned char *)mac->data, mac->length);
    BUF_MEM_free(p);
    BUF_MEM_free(mac);
}

static int mac_ok(const EAC_CTX *ctx, const bytes_t *mac_input, const unsigned char *mac, size_t mac_len)
{
    BUF_MEM *p = padded(ctx, mac_input->data, mac_input->len), *m = buf(mac, mac_len);
    int ok = EAC_verify_authentication(ctx, p, m) == 1;
    BUF_MEM_free(p);
    BUF_MEM_free(m);
    return ok;
}

static void put_cryptogram(const EAC_CTX *ctx, bytes_t *out, const unsigned char *data, size_t len)
{
    BUF_MEM *p = padded(ctx, data, len), *c = EAC_encrypt(ctx, p);
    if (!c)
        die("encryption failed");
    bytes_t value = {.len = 0};
    put_byte(&value, 0x01);
    put(&value, c->data, c->length);
    put_tlv(out, 0x87, value.data, value.len);
    BUF_MEM_free(p);
    BUF_MEM_free(c);
}

static int decrypt_into(const EAC_CTX *ctx, const unsigned char *do87, size_t len, bytes_t *plain)
{
    if (len < 2 || do87[0] != 0x01)
        return 0;
    BUF_MEM *c = buf(do87 + 1, len - 1), *p = EAC_decrypt(ctx, c), *u = p ? EAC_remove_iso_pad(p) : NULL;
    int ok = u != NULL;
    if (ok) {
        plain->len = 0;
        put(plain, u->data, u->length);
    }
    BUF_MEM_free(c);
    BUF_MEM_free(p);
    BUF_MEM_free(u);
    return ok;
}

/* -- the terminal --------------------------------------------------------------------------------------------- */

static void transmit(const bytes_t *command, bytes_t *response)
{
    print_hex("C ", command->data, command->len);
    if (!read_line(response) || response->len < 2)
        die("no response");
}

static unsigned sw_of(const bytes_t *r) { return (unsigned)r->data[r->len - 2] << 8 | r->data[r->len - 1]; }

/* GENERAL AUTHENTICATE with 7C { tag value }; returns the value of `answer_tag` in the response. */
static BUF_MEM *general_authenticate(int last, unsigned char tag, const BUF_MEM *value, unsigned char answer_tag)
{
    bytes_t inner = {.len = 0}, data = {.len = 0}, command = {.len = 0}, response;
    if (value)
        put_tlv(&inner, tag, (unsigned char *)value->data, value->length);
    put_tlv(&data, 0x7C, inner.data, inner.len);
    unsigned char header[] = {last ? 0x00 : 0x10, 0x86, 0x00, 0x00, (unsigned char)data.len};
    put(&command, header, sizeof header);
    put(&command, data.data, data.len);
    put_byte(&command, 0x00);
    transmit(&command, &response);
    if (sw_of(&response) != 0x9000)
        die("GENERAL AUTHENTICATE answered %04X", sw_of(&response));
    size_t outer_len, len;
    const unsigned char *outer = find_tlv(response.data, response.len - 2, 0x7C, &outer_len);
    const unsigned char *v = outer ? find_tlv(outer, outer_len, answer_tag, &len) : NULL;
    if (!v)
        die("no %02X in the response", answer_tag);
    return buf(v, len);
}

static void mse_set_at(const EAC_CTX *ctx, unsigned char secret_type)
{
    const ASN1_OBJECT *oid = OBJ_nid2obj(ctx->pace_ctx->protocol);
    if (!oid)
        die("no OID for the protocol");
    bytes_t data = {.len = 0}, command = {.len = 0}, response;
    unsigned char id = (unsigned char)ctx->pace_ctx->id;
    put_tlv(&data, 0x80, OBJ_get0_data(oid), OBJ_length(oid));
    put_tlv(&data, 0x83, &secret_type, 1);
    put_tlv(&data, 0x84, &id, 1);
    unsigned char header[] = {0x00, 0x22, 0xC1, 0xA4, (unsigned char)data.len};
    put(&command, header, sizeof header);
    put(&command, data.data, data.len);
    transmit(&command, &response);
    if (sw_of(&response) != 0x9000)
        die("MSE:Set AT answered %04X", sw_of(&response));
}

/* One SM command: [87] [97] 8E, MAC over pad(pad(header) || objects); returns the plain response data. */
static void sm_transmit(EAC_CTX *ctx, const unsigned char header[4], const bytes_t *data, int le, bytes_t *plain)
{
    bytes_t objects = {.len = 0}, mac_input = {.len = 0}, command = {.len = 0}, response;
    unsigned char cla_header[4] = {header[0] | 0x0C, header[1], header[2], header[3]};
    EAC_increment_ssc(ctx);
    if (data->len)
        put_cryptogram(ctx, &objects, data->data, data->len);
    if (le >= 0) {
        unsigned char le_byte = (unsigned char)le;
        put_tlv(&objects, 0x97, &le_byte, 1);
    }
    BUF_MEM *ph = padded(ctx, cla_header, 4);
    put(&mac_input, ph->data, ph->length);
    put(&mac_input, objects.data, objects.len);
    BUF_MEM_free(ph);
    put_mac(ctx, &objects, &mac_input);
    put(&command, cla_header, 4);
    put_byte(&command, (unsigned char)objects.len);
    put(&command, objects.data, objects.len);
    put_byte(&command, 0x00);
    transmit(&command, &response);

    EAC_increment_ssc(ctx);
    size_t body = response.len - 2, len87 = 0, len99, len8e;
    const unsigned char *do87 = find_tlv(response.data, body, 0x87, &len87);
    const unsigned char *do99 = find_tlv(response.data, body, 0x99, &len99);
    const unsigned char *do8e = find_tlv(response.data, body, 0x8E, &len8e);
    if (!do99 || !do8e || len99 != 2)
        die("SM objects missing in the response (%04X)", sw_of(&response));
    bytes_t checked = {.len = 0};
    put(&checked, response.data, (size_t)(do8e - 2 - response.data));
    if (!mac_ok(ctx, &checked, do8e, len8e))
        die("response MAC wrong");
    if ((do99[0] << 8 | do99[1]) != 0x9000)
        die("SM command answered %02X%02X", do99[0], do99[1]);
    plain->len = 0;
    if (do87 && !decrypt_into(ctx, do87, len87, plain))
        die("response cryptogram wrong");
}

static int run_terminal(EAC_CTX *ctx, PACE_SEC *secret, unsigned char secret_type, const bytes_t *fid)
{
    mse_set_at(ctx, secret_type);
    BUF_MEM *z = general_authenticate(0, 0, NULL, 0x80);
    if (!PACE_STEP2_dec_nonce(ctx, secret, z))
        die("PACE_STEP2_dec_nonce");
    BUF_MEM *map = PACE_STEP3A_generate_mapping_data(ctx);
    BUF_MEM *chip_map = map ? general_authenticate(0, 0x81, map, 0x82) : NULL;
    if (!chip_map || !PACE_STEP3A_map_generator(ctx, chip_map))
        die("PACE_STEP3A");
    BUF_MEM *eph = PACE_STEP3B_generate_ephemeral_key(ctx);
    BUF_MEM *chip_eph = eph ? general_authenticate(0, 0x83, eph, 0x84) : NULL;
    if (!chip_eph || !PACE_STEP3B_compute_shared_secret(ctx, chip_eph) || !PACE_STEP3C_derive_keys(ctx))
        die("PACE_STEP3B/3C");
    BUF_MEM *token = PACE_STEP3D_compute_authentication_token(ctx, chip_eph);
    BUF_MEM *chip_token = token ? general_authenticate(1, 0x85, token, 0x86) : NULL;
    if (!chip_token || PACE_STEP3D_verify_authentication_token(ctx, chip_token) != 1)
        die("the chip's authentication token is wrong");
    if (!EAC_CTX_set_encryption_ctx(ctx, EAC_ID_PACE))
        die("EAC_CTX_set_encryption_ctx");

    bytes_t none = {.len = 0}, plain;
    const unsigned char select[4] = {0x00, 0xA4, 0x02, 0x0C}, read_binary[4] = {0x00, 0xB0, 0x00, 0x00};
    sm_transmit(ctx, select, fid, -1, &plain);
    sm_transmit(ctx, read_binary, &none, 0x00, &plain);
    print_hex("OK ", plain.data, plain.len);
    BUF_MEM_free(z), BUF_MEM_free(map), BUF_MEM_free(chip_map), BUF_MEM_free(eph);
    BUF_MEM_free(chip_eph), BUF_MEM_free(token), BUF_MEM_free(chip_token);
    return 0;
}

/* -- the chip ---------------------------------------------------------------------------------------------------- */

static void answer(const unsigned char *data, size_t len, unsigned sw)
{
    bytes_t r = {.len = 0};
    put(&r, data, len);
    put_byte(&r, (unsigned char)(sw >> 8));
    put_byte(&r, (unsigned char)sw);
    print_hex("", r.data, r.len);
}

/* The value of `tag` inside the 7C of a GENERAL AUTHENTICATE command. */
static BUF_MEM *ga_value(const bytes_t *c, unsigned char tag)
{
    size_t outer_len, len;
    const unsigned char *outer = c->len > 5 ? find_tlv(c->data + 5, c->len - 5, 0x7C, &outer_len) : NULL;
    const unsigned char *v = outer ? find_tlv(outer, outer_len, tag, &len) : NULL;
    if (!v)
        die("no %02X in GENERAL AUTHENTICATE", tag);
    return buf(v, len);
}

static void answer_ga(unsigned char tag, const BUF_MEM *value)
{
    bytes_t inner = {.len = 0}, data = {.len = 0};
    put_tlv(&inner, tag, (unsigned char *)value->data, value->length);
    put_tlv(&data, 0x7C, inner.data, inner.len);
    answer(data.data, data.len, 0x9000);
}

static void chip_pace(EAC_CTX *ctx, PACE_SEC *secret)
{
    bytes_t c;
    if (!read_line(&c) || c.len < 4 || c.data[1] != 0x22)
        die("MSE:Set AT expected");
    answer(NULL, 0, 0x9000);
    if (!read_line(&c) || c.data[1] != 0x86)
        die("GENERAL AUTHENTICATE expected");
    BUF_MEM *z = PACE_STEP1_enc_nonce(ctx, secret);
    if (!z)
        die("PACE_STEP1_enc_nonce");
    answer_ga(0x80, z);
    if (!read_line(&c))
        die("step 2 expected");
    BUF_MEM *terminal_map = ga_value(&c, 0x81), *map = PACE_STEP3A_generate_mapping_data(ctx);
    if (!map || !PACE_STEP3A_map_generator(ctx, terminal_map))
        die("PACE_STEP3A");
    answer_ga(0x82, map);
    if (!read_line(&c))
        die("step 3 expected");
    BUF_MEM *terminal_eph = ga_value(&c, 0x83), *eph = PACE_STEP3B_generate_ephemeral_key(ctx);
    if (!eph || !PACE_STEP3B_compute_shared_secret(ctx, terminal_eph) || !PACE_STEP3C_derive_keys(ctx))
        die("PACE_STEP3B/3C");
    answer_ga(0x84, eph);
    if (!read_line(&c))
        die("step 4 expected");
    BUF_MEM *terminal_token = ga_value(&c, 0x85);
    if (PACE_STEP3D_verify_authentication_token(ctx, terminal_token) != 1) {
        answer(NULL, 0, 0x6300);
        die("the terminal's authentication token is wrong");
    }
    BUF_MEM *token = PACE_STEP3D_compute_authentication_token(ctx, terminal_eph);
    if (!token || !EAC_CTX_set_encryption_ctx(ctx, EAC_ID_PACE))
        die("PACE_STEP3D");
    answer_ga(0x86, token);
    BUF_MEM_free(z), BUF_MEM_free(terminal_map), BUF_MEM_free(map), BUF_MEM_free(terminal_eph);
    BUF_MEM_free(eph), BUF_MEM_free(terminal_token), BUF_MEM_free(token);
}

/* Unwrap one SM command into `plain` (data) and `le`; 0 when its objects or MAC are wrong. */
static int chip_unwrap(const EAC_CTX *ctx, const bytes_t *c, bytes_t *plain, int *le)
{
    if (c->len < 6 || (c->data[0] & 0x0C) != 0x0C)
        return 0;
    const unsigned char *body = c->data + 5;
    size_t body_len = c->data[4], len87 = 0, len97 = 0, len8e = 0;
    if (5 + body_len > c->len)
        return 0;
    const unsigned char *do87 = find_tlv(body, body_len, 0x87, &len87);
    const unsigned char *do97 = find_tlv(body, body_len, 0x97, &len97);
    const unsigned char *do8e = find_tlv(body, body_len, 0x8E, &len8e);
    if (!do8e)
        return 0;
    bytes_t mac_input = {.len = 0};
    BUF_MEM *ph = padded(ctx, c->data, 4);
    put(&mac_input, ph->data, ph->length);
    BUF_MEM_free(ph);
    put(&mac_input, body, (size_t)(do8e - 2 - body));
    if (!mac_ok(ctx, &mac_input, do8e, len8e))
        return 0;
    plain->len = 0;
    if (do87 && !decrypt_into(ctx, do87, len87, plain))
        return 0;
    *le = do97 && len97 == 1 ? (do97[0] ? do97[0] : 256) : 0;
    return 1;
}

static void chip_wrap(const EAC_CTX *ctx, const unsigned char *data, size_t len, unsigned sw)
{
    bytes_t objects = {.len = 0};
    unsigned char sw_bytes[2] = {(unsigned char)(sw >> 8), (unsigned char)sw};
    if (len)
        put_cryptogram(ctx, &objects, data, len);
    put_tlv(&objects, 0x99, sw_bytes, 2);
    bytes_t mac_input = objects;
    put_mac(ctx, &objects, &mac_input);
    answer(objects.data, objects.len, sw);
}

static int run_chip(EAC_CTX *ctx, PACE_SEC *secret, const bytes_t *file)
{
    chip_pace(ctx, secret);
    bytes_t c, plain;
    while (read_line(&c)) {
        int le = 0;
        EAC_increment_ssc(ctx);
        if (!chip_unwrap(ctx, &c, &plain, &le)) {
            answer(NULL, 0, 0x6988);
            return 1;
        }
        EAC_increment_ssc(ctx);
        if (c.data[1] == 0xA4)
            chip_wrap(ctx, NULL, 0, plain.len == 2 && plain.data[0] == 0x01 && plain.data[1] == 0x1C ? 0x9000 : 0x6A82);
        else if (c.data[1] == 0xB0)
            chip_wrap(ctx, file->data, (size_t)le < file->len ? (size_t)le : file->len, 0x9000);
        else
            chip_wrap(ctx, NULL, 0, 0x6D00);
    }
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc < 5 || (strcmp(argv[1], "terminal") && strcmp(argv[1], "chip")) || (!strcmp(argv[1], "chip") && argc < 6))
        die("usage: pace_peer terminal|chip EF_CARDACCESS_HEX SECRET_TYPE SECRET [FID_HEX|FILE_HEX]");
    bytes_t card_access, file = {.len = 0}, fid = {.data = {0x01, 0x1C}, .len = 2};
    from_hex(argv[2], &card_access);
    unsigned char secret_type = (unsigned char)atoi(argv[3]);

    EAC_init();
    EAC_CTX *ctx = EAC_CTX_new();
    if (!ctx || !EAC_CTX_init_ef_cardaccess(card_access.data, card_access.len, ctx) || !ctx->pace_ctx)
        die("EAC_CTX_init_ef_cardaccess refused EF.CardAccess");
    PACE_SEC *secret = PACE_SEC_new(argv[4], strlen(argv[4]), (enum s_type)secret_type);
    if (!secret)
        die("PACE_SEC_new");
    int rc;
    if (!strcmp(argv[1], "terminal")) {
        if (argc > 5)
            from_hex(argv[5], &fid);
        rc = run_terminal(ctx, secret, secret_type, &fid);
    } else {
        from_hex(argv[5], &file);
        rc = run_chip(ctx, secret, &file);
    }
    PACE_SEC_clear_free(secret);
    EAC_CTX_clear_free(ctx);
    EAC_cleanup();
    return rc;
}
