// The one C++ file wrapping libcapnp (as src/common/shortest.cc wraps
// libdouble-conversion): hollow_schema_parse_capnp() runs the Cap'n Proto
// compiler's own SchemaParser on a .capnp file, so a file is accepted or
// rejected exactly as `capnp compile` does, then walks the compiled nodes
// and builds Hollow schemas through the public schema API
// (docs/schema-capnp.md has the mapping).
//
// No C++ exception crosses the C API: everything runs inside one try block
// and becomes a hollow error code. The compiler reports an error through a
// kj::Exception holding the file (relative to the directory it parsed from:
// see parse()) and a 0-based line, without a column.
//
// Types are emitted in a queue: first every struct and enum the file
// declares, in declaration order (nested ones after their parent), then
// the types they use (imported structs, ListOf* types, wrappers) in the
// order they are first met.
#include <capnp/schema-parser.h>
#include <capnp/schema.h>
#include <kj/exception.h>
#include <kj/filesystem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

#include "hollow/schema.h"

extern "C" {
#include "common/error.h"
}

namespace
{

// id of `primaryKey` in include/hollow/hollow.capnp (declared explicitly
// there, so it never changes)
const uint64_t PRIMARY_KEY_ANNOTATION = 0xaba6f3284878aa1fULL;

struct Failure {
    int code;
    std::string message;
};

[[noreturn]] void fail(int code, const std::string &message)
{
    throw Failure{code, message};
}

std::vector<std::string> split_fields(const std::string &text)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        std::string f =
            text.substr(start, comma == std::string::npos ? std::string::npos
                                                          : comma - start);
        size_t b = f.find_first_not_of(" \t");
        size_t e = f.find_last_not_of(" \t");
        out.push_back(b == std::string::npos ? "" : f.substr(b, e - b + 1));
        if (comma == std::string::npos)
            return out;
        start = comma + 1;
    }
}

class Mapper
{
  public:
    Mapper(std::string user_path, std::string main_file,
           std::map<std::string, std::vector<std::string>> keys, bool rooted)
        : user_path_(std::move(user_path)), main_file_(std::move(main_file)),
          keys_(std::move(keys)), rooted_(rooted)
    {
    }

    ~Mapper() { hollow_schema_list_free(list_); }

    // Declare every node of the file, then build the queue.
    hollow_schema_list *run(const capnp::ParsedSchema &file)
    {
        if (hollow_schema_list_new(&list_) < 0)
            throw std::bad_alloc();
        declare(file);
        while (!queue_.empty()) {
            Item it = queue_.front();
            queue_.pop_front();
            build(it);
        }
        for (const auto &k : keys_)
            if (structs_.count(k.first) == 0)
                fail(HOLLOW_EINVAL, user_path_ + ": primary key for " +
                                        k.first + ", which is no struct");
        hollow_schema_list *l = list_;
        list_ = nullptr;
        return l;
    }

  private:
    enum Kind {
        STRUCT,
        ENUM,
        LIST,
        WRAPPER
    };
    struct Item {
        Kind kind;
        capnp::Schema schema;
        std::string name;
        std::string element;       // LIST: element type name
        hollow_field_type wrapped; // WRAPPER: type of `value`
    };

    std::string user_path_, main_file_;
    std::map<std::string, std::vector<std::string>> keys_;
    bool rooted_; // files are relative to "/", else to the current dir
    hollow_schema_list *list_ = nullptr;
    std::map<std::string, std::string> origin_; // type name -> what made it
    std::map<uint64_t, std::string> by_id_;
    std::map<std::string, bool> structs_; // names of struct types
    std::deque<Item> queue_;

    // The file a node comes from, as the user knows it.
    std::string file_of(const capnp::Schema &s) const
    {
        std::string dn = s.getProto().getDisplayName().cStr();
        std::string f = dn.substr(0, dn.find(':'));
        if (f == main_file_)
            return user_path_;
        return rooted_ ? "/" + f : f;
    }

    [[noreturn]] void unsupported(const capnp::Schema &owner,
                                  const std::string &field,
                                  const std::string &what) const
    {
        std::string kind = owner.getProto().isEnum() ? "enum" : "struct";
        fail(HOLLOW_EINVAL, file_of(owner) + ": " + kind + " " +
                                owner.getShortDisplayName().cStr() +
                                (field.empty() ? "" : " field " + field) +
                                ": " + what);
    }

    // Claim a Hollow type name for `origin`; false if already claimed by it.
    bool claim(const std::string &name, const std::string &origin,
               const capnp::Schema &ctx)
    {
        auto it = origin_.find(name);
        if (it == origin_.end()) {
            origin_[name] = origin;
            return true;
        }
        if (it->second != origin)
            unsupported(ctx, "",
                        "two types are named " + name + " (" + it->second +
                            " and " + origin + ")");
        return false;
    }

    void declare(const capnp::ParsedSchema &node)
    {
        for (capnp::ParsedSchema child : node.getAllNested()) {
            auto proto = child.getProto();
            if (proto.isStruct())
                struct_ref(child.asStruct(), child);
            else if (proto.isEnum())
                enum_ref(child.asEnum(), child);
            else if (proto.isInterface())
                fail(HOLLOW_EINVAL, file_of(child) + ": interface " +
                                        child.getShortDisplayName().cStr() +
                                        ": interfaces are not supported");
            // constants and annotation declarations map to nothing
            declare(child);
        }
    }

    std::string struct_ref(const capnp::StructSchema &s,
                           const capnp::Schema &ctx)
    {
        uint64_t id = s.getProto().getId();
        auto it = by_id_.find(id);
        if (it != by_id_.end())
            return it->second;
        std::string name = s.getShortDisplayName().cStr();
        claim(name,
              "struct " + std::string(s.getProto().getDisplayName().cStr()),
              ctx);
        by_id_[id] = name;
        structs_[name] = true;
        queue_.push_back(Item{STRUCT, s, name, "", HOLLOW_FIELD_INT});
        return name;
    }

    std::string enum_ref(const capnp::EnumSchema &e, const capnp::Schema &ctx)
    {
        uint64_t id = e.getProto().getId();
        auto it = by_id_.find(id);
        if (it != by_id_.end())
            return it->second;
        std::string name = e.getShortDisplayName().cStr();
        claim(name, "enum " + std::string(e.getProto().getDisplayName().cStr()),
              ctx);
        by_id_[id] = name;
        queue_.push_back(Item{ENUM, e, name, "", HOLLOW_FIELD_INT});
        return name;
    }

    std::string wrapper_ref(const char *name, hollow_field_type t,
                            const capnp::Schema &ctx)
    {
        if (claim(name, std::string("wrapper ") + name, ctx))
            queue_.push_back(Item{WRAPPER, ctx, name, "", t});
        return name;
    }

    // The Hollow type a list element or a reference field points to.
    std::string ref_name(const capnp::Type &t, const capnp::Schema &owner,
                         const std::string &field)
    {
        switch (t.which()) {
        case capnp::schema::Type::BOOL:
            return wrapper_ref("Boolean", HOLLOW_FIELD_BOOLEAN, owner);
        case capnp::schema::Type::INT8:
        case capnp::schema::Type::INT16:
        case capnp::schema::Type::INT32:
        case capnp::schema::Type::UINT8:
        case capnp::schema::Type::UINT16:
            return wrapper_ref("Integer", HOLLOW_FIELD_INT, owner);
        case capnp::schema::Type::INT64:
        case capnp::schema::Type::UINT32:
        case capnp::schema::Type::UINT64:
            return wrapper_ref("Long", HOLLOW_FIELD_LONG, owner);
        case capnp::schema::Type::FLOAT32:
            return wrapper_ref("Float", HOLLOW_FIELD_FLOAT, owner);
        case capnp::schema::Type::FLOAT64:
            return wrapper_ref("Double", HOLLOW_FIELD_DOUBLE, owner);
        case capnp::schema::Type::TEXT:
            return wrapper_ref("String", HOLLOW_FIELD_STRING, owner);
        case capnp::schema::Type::DATA:
            unsupported(owner, field, "List(Data) is not supported");
        case capnp::schema::Type::STRUCT: {
            capnp::StructSchema s = t.asStruct();
            if (s.getProto().getIsGeneric())
                unsupported(owner, field, "generic structs are not supported");
            return struct_ref(s, owner);
        }
        case capnp::schema::Type::ENUM:
            return enum_ref(t.asEnum(), owner);
        case capnp::schema::Type::LIST: {
            std::string elem =
                ref_name(t.asList().getElementType(), owner, field);
            std::string name = "ListOf" + elem;
            if (claim(name, "list of " + elem, owner))
                queue_.push_back(
                    Item{LIST, owner, name, elem, HOLLOW_FIELD_INT});
            return name;
        }
        case capnp::schema::Type::INTERFACE:
            unsupported(owner, field, "interfaces are not supported");
        case capnp::schema::Type::ANY_POINTER:
            unsupported(owner, field, "AnyPointer is not supported");
        case capnp::schema::Type::VOID:
            unsupported(owner, field, "Void is not supported");
        }
        unsupported(owner, field, "this type is not supported");
    }

    void add_field(hollow_schema *obj, const capnp::StructSchema &s,
                   const capnp::StructSchema::Field &f)
    {
        std::string fname = f.getProto().getName().cStr();
        if (f.getProto().getDiscriminantValue() !=
            capnp::schema::Field::NO_DISCRIMINANT)
            unsupported(s, fname, "unions are not supported");
        if (f.getProto().isGroup()) {
            bool is_union = f.getType()
                                .asStruct()
                                .getProto()
                                .getStruct()
                                .getDiscriminantCount() > 0;
            unsupported(s, fname,
                        is_union ? "unions are not supported"
                                 : "groups are not supported");
        }
        capnp::Type t = f.getType();
        hollow_field_type ft = HOLLOW_FIELD_REFERENCE;
        std::string ref;
        switch (t.which()) {
        case capnp::schema::Type::BOOL:
            ft = HOLLOW_FIELD_BOOLEAN;
            break;
        case capnp::schema::Type::INT8:
        case capnp::schema::Type::INT16:
        case capnp::schema::Type::INT32:
        case capnp::schema::Type::UINT8:
        case capnp::schema::Type::UINT16:
            ft = HOLLOW_FIELD_INT;
            break;
        case capnp::schema::Type::INT64:
        case capnp::schema::Type::UINT32:
        case capnp::schema::Type::UINT64:
            ft = HOLLOW_FIELD_LONG;
            break;
        case capnp::schema::Type::FLOAT32:
            ft = HOLLOW_FIELD_FLOAT;
            break;
        case capnp::schema::Type::FLOAT64:
            ft = HOLLOW_FIELD_DOUBLE;
            break;
        case capnp::schema::Type::TEXT:
            ft = HOLLOW_FIELD_STRING;
            break;
        case capnp::schema::Type::DATA:
            ft = HOLLOW_FIELD_BYTES;
            break;
        default:
            ref = ref_name(t, s, fname);
            break;
        }
        int rc = hollow_schema_add_field(obj, fname.c_str(), ft,
                                         ref.empty() ? nullptr : ref.c_str());
        if (rc < 0)
            fail(rc, file_of(s) + ": struct " + s.getShortDisplayName().cStr() +
                         " field " + fname + ": " +
                         hollow_error_last()->message);
    }

    std::vector<std::string> key_of(const capnp::StructSchema &s,
                                    const std::string &name) const
    {
        auto k = keys_.find(name);
        if (k != keys_.end())
            return k->second;
        for (auto a : s.getProto().getAnnotations()) {
            if (a.getId() != PRIMARY_KEY_ANNOTATION)
                continue;
            if (!a.getValue().isText())
                unsupported(s, "", "$primaryKey wants Text");
            std::vector<std::string> f =
                split_fields(a.getValue().getText().cStr());
            for (const auto &p : f)
                if (p.empty())
                    unsupported(s, "",
                                "$primaryKey(\"" +
                                    std::string(a.getValue().getText().cStr()) +
                                    "\") has an empty field");
            return f;
        }
        return {};
    }

    void add(hollow_schema *s)
    {
        int rc = hollow_schema_list_add(list_, s);
        if (rc < 0)
            fail(rc, user_path_ + ": " + hollow_error_last()->message);
    }

    void build(const Item &it)
    {
        hollow_schema *s = nullptr;
        int rc;
        if (it.kind == LIST)
            rc = hollow_schema_list_type_new(&s, it.name.c_str(),
                                             it.element.c_str());
        else
            rc = hollow_schema_object_new(&s, it.name.c_str());
        if (rc < 0)
            fail(rc, user_path_ + ": " + hollow_error_last()->message);
        try {
            if (it.kind == STRUCT) {
                capnp::StructSchema ss = it.schema.asStruct();
                if (ss.getProto().getIsGeneric())
                    unsupported(ss, "", "generic structs are not supported");
                for (auto f : ss.getFields())
                    add_field(s, ss, f);
                std::vector<std::string> key = key_of(ss, it.name);
                std::vector<const char *> paths;
                for (const auto &p : key)
                    paths.push_back(p.c_str());
                if (!paths.empty() && (rc = hollow_schema_set_key(
                                           s, paths.data(), paths.size())) < 0)
                    fail(rc, user_path_ + ": " + hollow_error_last()->message);
            } else if (it.kind == ENUM) {
                // Java's object mapper stores an enum as its name
                rc = hollow_schema_add_field(s, "_name", HOLLOW_FIELD_STRING,
                                             nullptr);
            } else if (it.kind == WRAPPER) {
                rc = hollow_schema_add_field(s, "value", it.wrapped, nullptr);
            }
            if (rc < 0)
                fail(rc, user_path_ + ": " + hollow_error_last()->message);
        } catch (...) {
            hollow_schema_free(s);
            throw;
        }
        add(s);
    }
};

// The file an imported file's trimmed name `f` stands for: the first of
// D/f, for D the main file's directories from the deepest, that exists.
std::string untrim(const std::string &main_file, const std::string &f,
                   bool rooted)
{
    std::string lead = rooted ? "/" : "";
    for (size_t slash = main_file.rfind('/'); slash != std::string::npos;
         slash = slash == 0 ? std::string::npos
                            : main_file.rfind('/', slash - 1)) {
        std::string c = lead + main_file.substr(0, slash + 1) + f;
        if (access(c.c_str(), F_OK) == 0)
            return c;
    }
    return lead + f;
}

int parse(hollow_schema_list **out, const char *path,
          const hollow_capnp_options *opts)
{
    std::map<std::string, std::vector<std::string>> keys;
    for (const char *const *k = opts ? opts->primary_keys : nullptr;
         k != nullptr && *k != nullptr; k++) {
        std::string spec = *k;
        size_t eq = spec.find('=');
        std::vector<std::string> f;
        if (eq != std::string::npos && eq > 0)
            f = split_fields(spec.substr(eq + 1));
        bool ok = !f.empty();
        for (const auto &p : f)
            ok = ok && !p.empty();
        if (!ok)
            fail(HOLLOW_EINVAL,
                 "primary key '" + spec + "': expected TYPE=field[,field]");
        keys[spec.substr(0, eq)] = f;
    }

    FILE *probe = std::fopen(path, "rb");
    if (probe == nullptr) {
        int err = errno;
        hollow__error_set_os(HOLLOW_EIO, err, "cannot read %s: %s", path,
                             std::strerror(err));
        return HOLLOW_EIO;
    }
    std::fclose(probe);

    auto fs = kj::newDiskFilesystem();
    const kj::ReadableDirectory &root = fs->getRoot();
    std::vector<kj::Own<const kj::ReadableDirectory>> dirs;
    for (const char *const *d = opts ? opts->import_dirs : nullptr;
         d != nullptr && *d != nullptr; d++) {
        KJ_IF_MAYBE (dir,
                     root.tryOpenSubdir(fs->getCurrentPath().evalNative(*d))) {
            dirs.push_back(kj::mv(*dir));
        } else {
            fail(HOLLOW_EIO, std::string("cannot open import dir ") + *d);
        }
    }
    for (const char *d : {"/usr/local/include", "/usr/include"})
        KJ_IF_MAYBE (dir, root.tryOpenSubdir(kj::Path::parse(d + 1))) {
            dirs.push_back(kj::mv(*dir));
        }
    std::vector<const kj::ReadableDirectory *> import_path;
    for (const auto &d : dirs)
        import_path.push_back(d.get());

    // As `capnp compile` does: a relative path that stays below the
    // current directory is parsed from there (imported files then show
    // relative to it), any other from "/".
    const kj::ReadableDirectory *base = &fs->getCurrent();
    kj::Path rel = nullptr;
    bool rooted = path[0] == '/';
    if (!rooted) {
        try {
            rel = kj::Path::parse(path);
        } catch (kj::Exception &) {
            rooted = true;
        }
    }
    if (rooted) {
        base = &root;
        rel = fs->getCurrentPath().evalNative(path);
    }
    std::string main_file = rel.toString().cStr();
    capnp::SchemaParser parser;
    capnp::ParsedSchema file;
    try {
        file = parser.parseFromDirectory(
            *base, kj::mv(rel),
            kj::ArrayPtr<const kj::ReadableDirectory *const>(
                import_path.data(), import_path.size()));
    } catch (kj::Exception &e) {
        // Compiler errors carry the .capnp file, relative to `base`, and a
        // 0-based line. kj trims some leading directories off the file
        // name ("tmp/"), so the main file is matched by its tail.
        std::string f = e.getFile();
        std::string shown = f;
        if (f == main_file ||
            (main_file.size() > f.size() &&
             main_file.compare(main_file.size() - f.size() - 1, f.size() + 1,
                               "/" + f) == 0))
            shown = path;
        else
            shown = untrim(main_file, f, rooted);
        bool in_schema =
            f.size() > 6 && f.compare(f.size() - 6, 6, ".capnp") == 0;
        if (in_schema)
            fail(HOLLOW_EPARSE, shown + ":" + std::to_string(e.getLine() + 1) +
                                    ": " + e.getDescription().cStr());
        fail(HOLLOW_EPARSE,
             std::string(path) + ": " + e.getDescription().cStr());
    }
    Mapper m(path, main_file, keys, rooted);
    hollow_schema_list *l = m.run(file);
    int rc = hollow_schema_list_validate(l);
    if (rc < 0) {
        hollow_schema_list_free(l);
        return hollow__error_prefix("%s", path);
    }
    *out = l;
    return 0;
}

} // namespace

extern "C" int hollow_schema_parse_capnp(hollow_schema_list **out,
                                         const char *path,
                                         const hollow_capnp_options *opts)
{
    HOLLOW__ARG_NOT_NULL(out);
    *out = nullptr;
    HOLLOW__ARG_NOT_NULL(path);
    if (opts != nullptr && opts->version != HOLLOW_CAPNP_OPTIONS_VERSION)
        return hollow__check_options_version("capnp", opts->version,
                                             HOLLOW_CAPNP_OPTIONS_VERSION);
    try {
        return parse(out, path, opts);
    } catch (const Failure &f) {
        return hollow__error_set(f.code, "%s", f.message.c_str());
    } catch (kj::Exception &e) {
        return hollow__error_set(HOLLOW_ERROR, "%s: %s", path,
                                 e.getDescription().cStr());
    } catch (const std::bad_alloc &) {
        return hollow__error_oom();
    } catch (...) {
        return hollow__error_set(HOLLOW_ERROR, "%s: unexpected exception",
                                 path);
    }
}
