# Annotations that hollow_schema_parse_capnp() and `hollow-cli schema`
# understand (docs/schema-capnp.md). Import it as
#   using Hollow = import "/hollow/hollow.capnp";
# with the directory holding hollow/ (this repository's include/) on the
# import path: `-I include`, or /usr/include once installed there.
@0xc7de09fe4827b7a5;

# The primary key of a struct: field names, comma-separated; a field may
# be a dot path through references ("address.city").
annotation primaryKey @0xaba6f3284878aa1f (struct) :Text;
