# CPack's Debian packages, one per install component (scripts/deb.sh runs
# it with -DHOLLOW_DEB=ON -DCMAKE_INSTALL_PREFIX=/usr). The runtime package
# is named after the SONAME as Debian policy 8.1 says: libhollow.so.0.2 is
# in libhollow0.2.
set(HOLLOW_DEB_MAINTAINER "hollow-c packager <nobody@hollow-c.invalid>" CACHE STRING
    "the Maintainer field of the .deb files (scripts/deb.sh: $DEBFULLNAME <$DEBEMAIL>)")

set(HOLLOW_DEB_RUNTIME libhollow${HOLLOW_SOVERSION})
set(HOLLOW_DEB_DEV libhollow-dev)
set(HOLLOW_DEB_CLI hollow-cli)

if(HOLLOW_DEB)
  # every package carries /usr/share/doc/<package>/{copyright,changelog.Debian.gz}
  string(TIMESTAMP HOLLOW_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
  foreach(c runtime dev cli)
    string(TOUPPER ${c} C)
    set(pkg ${HOLLOW_DEB_${C}})
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/deb/${pkg}/changelog.Debian
"${pkg} (${PROJECT_VERSION}-1) unstable; urgency=medium

  * Built from the hollow-c sources by scripts/deb.sh.

 -- ${HOLLOW_DEB_MAINTAINER}  ${HOLLOW_DEB_DATE}
")
    execute_process(COMMAND gzip -9nf ${CMAKE_CURRENT_BINARY_DIR}/deb/${pkg}/changelog.Debian
                    COMMAND_ERROR_IS_FATAL ANY)
    install(FILES ${CMAKE_CURRENT_BINARY_DIR}/deb/${pkg}/changelog.Debian.gz
            DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${c})
    install(FILES ${PROJECT_SOURCE_DIR}/cmake/deb/copyright
            DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} RENAME copyright
            COMPONENT ${c})
  endforeach()
endif()

set(CPACK_PACKAGE_NAME hollow)
set(CPACK_PACKAGE_VENDOR "hollow-c")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Netflix Hollow in C")
set(CPACK_PACKAGE_CONTACT "${HOLLOW_DEB_MAINTAINER}")
set(CPACK_COMPONENTS_ALL runtime dev cli)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HOLLOW_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${HOLLOW_DEB_RUNTIME})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# shlibs for dpkg-shlibdeps of programs built against it (CPack reads only
# the global variables), and the ldconfig trigger
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/deb/triggers)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
"Netflix Hollow in C - shared library
 Hollow publishes a data set as versioned blobs (snapshot, delta, reverse
 delta); consumers load them into compact bit-packed memory. The blobs are
 wire-compatible with Java Hollow. This package has libhollow.so.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME ${HOLLOW_DEB_DEV})
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# libhollow.a's dependencies (hollow.pc's Libs.private, libstdc++ too): their -dev packages
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "${HOLLOW_DEB_RUNTIME} (= ${PROJECT_VERSION}-1), libdouble-conversion-dev, libcurl4-openssl-dev | libcurl-dev, libssl-dev, libhiredis-dev, libexpat1-dev, libcapnp-dev, libsimdjson-dev, libstdc++-12-dev | libstdc++-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
"Netflix Hollow in C - development files
 The headers, libhollow.a, hollow.pc for pkg-config, the CMake package
 (find_package(hollow) -> hollow::hollow), libhollow(3), the docs and
 examples.")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME ${HOLLOW_DEB_CLI})
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_CLI_DESCRIPTION
"Netflix Hollow in C - command-line tools
 hollow-cli produces, consumes, inspects, diffs and dumps Hollow data sets
 in a filesystem or S3 blob store, with a filesystem or Redis announcer;
 hollow-bench measures the library. Both are linked statically against
 libhollow.")

include(CPack)
