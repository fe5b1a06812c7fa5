// The one C++ file wrapping simdjson (as src/schema/capnp.cc wraps
// libcapnp): JSON text into the import's value tree (import_int.h).
//
// simdjson's On Demand API is used because it hands out each value's place
// in the input (raw_json_token), which is how a value that does not fit
// gets its LINE:COLUMN. Numbers come out exact: an integer literal as an
// int64 or a uint64, anything else as the nearest double (simdjson rounds
// correctly); a DOUBLE node also carries the float nearest the literal,
// re-parsed from the text in the one case where rounding twice (text to
// double to float) could differ: a double exactly between two floats.
//
// No exception crosses into C: simdjson is used through its error codes,
// and allocation (the parser's buffers, std::bad_alloc) is caught here and
// becomes HOLLOW_ENOMEM.
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

extern "C" {
#include "common/alloc.h"
#include "common/error.h"
#include "import/import_int.h"
}

struct hollow__jparser {
    simdjson::ondemand::parser parser;
};

namespace
{

namespace od = simdjson::ondemand;

class Converter
{
  public:
    Converter(hollow__itree *t, const char *data, size_t len, uint64_t base,
              hollow__jerror *err)
        : t_(t), data_(data), len_(len), base_(base), err_(err)
    {
    }

    int fail(int code, uint64_t off, const char *msg)
    {
        err_->code = code;
        err_->off = off;
        snprintf(err_->message, sizeof err_->message, "%s", msg);
        return code;
    }

    // the offset (in data) of a pointer into it, clamped
    uint64_t at(const char *p) const
    {
        if (p < data_ || p > data_ + len_)
            return 0;
        return (uint64_t)(p - data_);
    }

    void set_doc(od::document *doc) { doc_ = doc; }

    int syntax(simdjson::error_code e, uint64_t off)
    {
        const char *loc;
        if (doc_ != nullptr &&
            doc_->current_location().get(loc) == simdjson::SUCCESS &&
            loc >= data_ && loc < data_ + len_)
            off = at(loc);
        if (e == simdjson::MEMALLOC)
            return fail(HOLLOW_ENOMEM, off, "out of memory");
        if (e == simdjson::UTF8_ERROR)
            return fail(HOLLOW_EINVAL, hollow__utf8_invalid_at(data_, len_),
                        "invalid UTF-8");
        if (e == simdjson::DEPTH_ERROR)
            return depth_error(off);
        if (e == simdjson::EMPTY)
            return fail(HOLLOW_EINVAL, off, "malformed JSON: no value");
        char msg[120];
        snprintf(msg, sizeof msg, "malformed JSON: %s",
                 simdjson::error_message(e));
        return fail(HOLLOW_EINVAL, off, msg);
    }

    int depth_error(uint64_t off)
    {
        char msg[80];
        snprintf(msg, sizeof msg, "nesting deeper than %d levels",
                 HOLLOW__IMPORT_MAX_DEPTH);
        return fail(HOLLOW_EINVAL, off, msg);
    }

    hollow__inode *push(uint8_t kind, uint64_t off)
    {
        hollow__inode *n = hollow__itree_push(t_);
        if (n != nullptr) {
            n->kind = kind;
            n->quoted = 0;
            n->len = 0;
            n->aux = 0;
            n->span = 0;
            n->off = base_ + off;
            n->v.u = 0;
        }
        return n;
    }

    int string(std::string_view s, uint64_t off)
    {
        if (s.size() > UINT32_MAX)
            return fail(HOLLOW_EINVAL, off, "string longer than 4 GiB");
        hollow__inode *n = push(HOLLOW__I_STRING, off);
        if (n == nullptr)
            return fail(HOLLOW_ENOMEM, off, "out of memory");
        uint64_t so;
        if (hollow__itree_chars(t_, &so, s.data(), s.size()) < 0)
            return fail(HOLLOW_ENOMEM, off, "out of memory");
        n = &t_->nodes[t_->count - 1];
        n->len = (uint32_t)s.size();
        n->v.s = so;
        return 0;
    }

    // the float nearest the literal, given the double nearest it
    static float nearest_float(double d, std::string_view text)
    {
        float f = (float)d;
        if (!std::isfinite(d) || (double)f == d)
            return f;
        float g = std::nextafter(f, d > (double)f ? HUGE_VALF : -HUGE_VALF);
        if (std::isfinite(g) && ((double)f + (double)g) / 2 == d) {
            float exact;
            if (hollow__parse_float(&exact, text.data(), text.size()))
                return exact;
        }
        return f;
    }

    static std::string_view number_text(std::string_view raw)
    {
        size_t n = 0;
        while (n < raw.size() &&
               ((raw[n] >= '0' && raw[n] <= '9') || raw[n] == '+' ||
                raw[n] == '-' || raw[n] == '.' || raw[n] == 'e' ||
                raw[n] == 'E'))
            n++;
        return raw.substr(0, n);
    }

    // Integer literals through get_int64/get_uint64; the rest through
    // get_double, or libdouble-conversion past 19 significant digits
    // (simdjson 3.0.1's get_number() returns 0 for those).
    template <typename V> int number(V &v, uint64_t off, std::string_view raw)
    {
        std::string_view text = number_text(raw);
        bool integer = !text.empty();
        size_t digits = 0;
        for (size_t i = 0; i < text.size(); i++) {
            if (text[i] >= '0' && text[i] <= '9')
                digits++;
            else if (!(i == 0 && text[i] == '-'))
                integer = false;
        }
        hollow__inode *n;
        simdjson::error_code e;
        if (integer) {
            int64_t i;
            uint64_t u;
            if (v.get_int64().get(i) == simdjson::SUCCESS) {
                if ((n = push(HOLLOW__I_INT, off)) == nullptr)
                    return fail(HOLLOW_ENOMEM, off, "out of memory");
                n->v.i = i;
                return 0;
            }
            if (text[0] != '-' && v.get_uint64().get(u) == simdjson::SUCCESS) {
                if ((n = push(HOLLOW__I_UINT, off)) == nullptr)
                    return fail(HOLLOW_ENOMEM, off, "out of memory");
                n->v.u = u;
                return 0;
            }
            // beyond 64 bits: keep its double for DOUBLE fields; integer
            // fields refuse it as out of range
            double d;
            if (!hollow__parse_double(&d, text.data(), text.size()))
                return syntax(simdjson::NUMBER_ERROR, off);
            if ((n = push(HOLLOW__I_BIGINT, off)) == nullptr)
                return fail(HOLLOW_ENOMEM, off, "out of memory");
            n->v.d = d;
            return 0;
        }
        double d;
        if ((e = v.get_double().get(d)) != simdjson::SUCCESS)
            return syntax(e, off);
        if (digits > 19 && !hollow__parse_double(&d, text.data(), text.size()))
            return syntax(simdjson::NUMBER_ERROR, off);
        if ((n = push(HOLLOW__I_DOUBLE, off)) == nullptr)
            return fail(HOLLOW_ENOMEM, off, "out of memory");
        n->v.d = d;
        float f = nearest_float(d, text);
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        n->aux = bits;
        return 0;
    }

    // the span of the scalar just pushed: its token
    int scalar_span(int rc, std::string_view raw)
    {
        if (rc == 0 && t_->count > 0)
            t_->nodes[t_->count - 1].span =
                raw.size() < UINT32_MAX ? (uint32_t)raw.size() : 0;
        return rc;
    }

    int value(od::value v, int depth)
    {
        std::string_view raw = v.raw_json_token();
        uint64_t off = at(raw.data());
        od::json_type type;
        simdjson::error_code e = v.type().get(type);
        if (e != simdjson::SUCCESS)
            return syntax(e, off);
        switch (type) {
        case od::json_type::array: {
            if (depth >= HOLLOW__IMPORT_MAX_DEPTH)
                return depth_error(off);
            od::array a;
            if ((e = v.get_array().get(a)) != simdjson::SUCCESS)
                return syntax(e, off);
            return array(a, off, depth);
        }
        case od::json_type::object: {
            if (depth >= HOLLOW__IMPORT_MAX_DEPTH)
                return depth_error(off);
            od::object o;
            if ((e = v.get_object().get(o)) != simdjson::SUCCESS)
                return syntax(e, off);
            return object(o, off, depth);
        }
        case od::json_type::number:
            return scalar_span(number(v, off, raw), raw);
        case od::json_type::string: {
            std::string_view s;
            if ((e = v.get_string().get(s)) != simdjson::SUCCESS)
                return syntax(e, off);
            return scalar_span(string(s, off), raw);
        }
        case od::json_type::boolean: {
            bool b;
            if ((e = v.get_bool().get(b)) != simdjson::SUCCESS)
                return syntax(e, off);
            if (push(b ? HOLLOW__I_TRUE : HOLLOW__I_FALSE, off) == nullptr)
                return fail(HOLLOW_ENOMEM, off, "out of memory");
            return 0;
        }
        case od::json_type::null: {
            bool is_null;
            if ((e = v.is_null().get(is_null)) != simdjson::SUCCESS || !is_null)
                return syntax(
                    e != simdjson::SUCCESS ? e : simdjson::N_ATOM_ERROR, off);
            if (push(HOLLOW__I_NULL, off) == nullptr)
                return fail(HOLLOW_ENOMEM, off, "out of memory");
            return 0;
        }
        }
        return fail(HOLLOW_EINVAL, off, "malformed JSON");
    }

    int array(od::array &a, uint64_t off, int depth)
    {
        size_t self = t_->count;
        if (push(HOLLOW__I_ARRAY, off) == nullptr)
            return fail(HOLLOW_ENOMEM, off, "out of memory");
        uint32_t count = 0;
        for (auto item : a) {
            od::value v;
            simdjson::error_code e = item.get(v);
            if (e != simdjson::SUCCESS)
                return syntax(e, off);
            int rc = value(v, depth + 1);
            if (rc != 0)
                return rc;
            count++;
        }
        return close(self, count, off);
    }

    int object(od::object &o, uint64_t off, int depth)
    {
        size_t self = t_->count;
        if (push(HOLLOW__I_OBJECT, off) == nullptr)
            return fail(HOLLOW_ENOMEM, off, "out of memory");
        uint32_t count = 0;
        for (auto item : o) {
            od::field f;
            simdjson::error_code e = std::move(item).get(f);
            if (e != simdjson::SUCCESS)
                return syntax(e, off);
            uint64_t koff = at(f.key().raw());
            koff = koff > 0 ? koff - 1 : 0;
            std::string_view k;
            if ((e = f.unescaped_key().get(k)) != simdjson::SUCCESS)
                return syntax(e, koff);
            int rc = string(k, koff);
            if (rc == 0)
                rc = value(f.value(), depth + 1);
            if (rc != 0)
                return rc;
            count++;
        }
        return close(self, count, off);
    }

    int close(size_t self, uint32_t count, uint64_t off)
    {
        if (t_->count > UINT32_MAX)
            return fail(HOLLOW_EINVAL, off, "too many values in one record");
        t_->nodes[self].len = count;
        t_->nodes[self].aux = (uint32_t)t_->count;
        // the container's text runs to the next token after it
        const char *loc;
        const char *start = data_ + off;
        size_t end = len_ - off;
        if (doc_ != nullptr &&
            doc_->current_location().get(loc) == simdjson::SUCCESS &&
            loc > start && loc <= data_ + len_)
            end = (size_t)(loc - start);
        t_->nodes[self].span = end < UINT32_MAX ? (uint32_t)end : 0;
        return 0;
    }

    // the document must end after its value
    int finish(od::document &doc)
    {
        const char *loc;
        if (doc.current_location().get(loc) == simdjson::SUCCESS &&
            loc < data_ + len_)
            return fail(HOLLOW_EINVAL, at(loc),
                        "malformed JSON: content after the value");
        return 0;
    }

    // a document's top value, which must be an array or an object
    int top(od::document &doc)
    {
        od::json_type type;
        simdjson::error_code e = doc.type().get(type);
        if (e != simdjson::SUCCESS)
            return syntax(e, first_byte());
        if (type != od::json_type::array && type != od::json_type::object)
            return fail(HOLLOW_EINVAL, first_byte(),
                        "expected a JSON object or array");
        od::value v;
        if ((e = doc.get_value().get(v)) != simdjson::SUCCESS)
            return syntax(e, first_byte());
        int rc = value(v, 0);
        return rc != 0 ? rc : finish(doc);
    }

    uint64_t first_byte() const
    {
        uint64_t i = 0;
        while (i < len_ && strchr(" \t\r\n", data_[i]) != nullptr)
            i++;
        return i;
    }

  private:
    hollow__itree *t_;
    const char *data_;
    size_t len_;
    uint64_t base_;
    hollow__jerror *err_;
    od::document *doc_ = nullptr;
};

int start(od::document &doc, hollow__jparser *p, const char *data, size_t len,
          size_t cap, Converter &c)
{
    simdjson::error_code e = p->parser.iterate(data, len, cap).get(doc);
    if (e != simdjson::SUCCESS)
        return c.syntax(e, c.first_byte());
    c.set_doc(&doc);
    return 0;
}

} // namespace

extern "C" int hollow__jparser_new(hollow__jparser **out)
{
    *out = nullptr;
    void *mem = hollow__malloc(sizeof(hollow__jparser));
    if (mem == nullptr)
        return hollow__error_oom();
    *out = new (mem) hollow__jparser();
    return 0;
}

extern "C" void hollow__jparser_free(hollow__jparser *p)
{
    if (p == nullptr)
        return;
    p->~hollow__jparser();
    hollow__free(p);
}

extern "C" int hollow__json_parse(hollow__jparser *p, hollow__itree *t,
                                  const char *data, size_t len, size_t cap,
                                  uint64_t base, hollow__jerror *err)
{
    err->code = 0;
    Converter c(t, data, len, base, err);
    try {
        od::document doc;
        int rc = start(doc, p, data, len, cap, c);
        return rc != 0 ? rc : c.top(doc);
    } catch (const std::bad_alloc &) {
        return c.fail(HOLLOW_ENOMEM, 0, "out of memory");
    } catch (...) {
        return c.fail(HOLLOW_ERROR, 0, "unexpected failure in the JSON parser");
    }
}

extern "C" int hollow__json_each(hollow__jparser *p, hollow__itree *t,
                                 const char *data, size_t len, size_t cap,
                                 hollow__json_record_fn fn, void *payload,
                                 hollow__jerror *err)
{
    err->code = 0;
    Converter c(t, data, len, 0, err);
    try {
        od::document doc;
        int rc = start(doc, p, data, len, cap, c);
        if (rc != 0)
            return rc;
        od::json_type type;
        simdjson::error_code e = doc.type().get(type);
        if (e != simdjson::SUCCESS)
            return c.syntax(e, c.first_byte());
        if (type == od::json_type::object) {
            hollow__itree_clear(t);
            if ((rc = c.top(doc)) != 0)
                return rc;
            return fn(t, payload);
        }
        if (type != od::json_type::array)
            return c.fail(HOLLOW_EINVAL, c.first_byte(),
                          "expected an array of records or one record");
        od::array a;
        if ((e = doc.get_array().get(a)) != simdjson::SUCCESS)
            return c.syntax(e, c.first_byte());
        for (auto item : a) {
            od::value v;
            if ((e = item.get(v)) != simdjson::SUCCESS)
                return c.syntax(e, c.first_byte());
            hollow__itree_clear(t);
            if ((rc = c.value(v, 1)) != 0)
                return rc;
            if ((rc = fn(t, payload)) != 0)
                return rc;
        }
        return c.finish(doc);
    } catch (const std::bad_alloc &) {
        return c.fail(HOLLOW_ENOMEM, 0, "out of memory");
    } catch (...) {
        return c.fail(HOLLOW_ERROR, 0, "unexpected failure in the JSON parser");
    }
}
