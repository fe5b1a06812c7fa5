# What `cmake --install` (and `make install PREFIX=...`) puts where, in three
# components that are also the three Debian packages of scripts/deb.sh:
#   runtime  libhollow.so.0.N                       -> libhollow0.N
#   dev      headers, libhollow.so, libhollow.a, hollow.pc, the CMake
#            package, libhollow(3), docs, examples  -> libhollow-dev
#   cli      hollow-cli, hollow-bench, their man pages, bash completion
#                                                   -> hollow-cli
# docs/packaging.md says why, and how the SONAME changes.
include(CMakePackageConfigHelpers)
# scripts/deb.sh: man pages gzipped, copyright and changelog per package
option(HOLLOW_DEB "Install the files as the Debian packages want them" OFF)

set(HOLLOW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hollow)
set(HOLLOW_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(TARGETS hollow EXPORT hollowTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT dev)
install(TARGETS hollow_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        COMPONENT dev)
install(DIRECTORY include/hollow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev FILES_MATCHING PATTERN "*.h" PATTERN "*.capnp")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/hollow/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hollow COMPONENT dev)

# hollow.pc, relocatable: the prefix is found from the .pc file's own place
file(RELATIVE_PATH HOLLOW_PC_TO_PREFIX /root/${HOLLOW_PC_DIR} /root)
string(REGEX REPLACE "/$" "" HOLLOW_PC_TO_PREFIX "${HOLLOW_PC_TO_PREFIX}")
set(HOLLOW_PC_LIBS_PRIVATE -ldouble-conversion)
foreach(lib ${CURL_LIBRARIES} ${CRYPTO_LIBRARIES} ${HIREDIS_LIBRARIES}
            ${EXPAT_LIBRARIES} ${CAPNP_LIBRARIES} ${SIMDJSON_LIBRARIES})
  if(NOT "-l${lib}" IN_LIST HOLLOW_PC_LIBS_PRIVATE)
    list(APPEND HOLLOW_PC_LIBS_PRIVATE -l${lib})
  endif()
endforeach()
list(JOIN HOLLOW_PC_LIBS_PRIVATE " " HOLLOW_PC_LIBS_PRIVATE)
configure_file(cmake/hollow.pc.in ${CMAKE_CURRENT_BINARY_DIR}/hollow.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hollow.pc DESTINATION ${HOLLOW_PC_DIR}
        COMPONENT dev)

# find_package(hollow CONFIG) -> hollow::hollow (the shared library); a 0.x
# minor version is a new ABI, so only the same minor version is compatible
install(EXPORT hollowTargets NAMESPACE hollow:: DESTINATION ${HOLLOW_CMAKE_DIR}
        COMPONENT dev)
configure_package_config_file(cmake/hollowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/hollowConfig.cmake
  INSTALL_DESTINATION ${HOLLOW_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/hollowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hollowConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/hollowConfigVersion.cmake
        DESTINATION ${HOLLOW_CMAKE_DIR} COMPONENT dev)

# libhollow(3) lists each public header with its first comment line, so a
# header added later is in the page without an edit
file(GLOB HOLLOW_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/include/hollow/*.h ${PROJECT_SOURCE_DIR}/include/hollow/sys/*.h)
set(HOLLOW_MAN_HEADERS "")
foreach(h ${HOLLOW_PUBLIC_HEADERS})
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/include ${h})
  file(READ ${h} head LIMIT 1000)
  # " * hollow/x.h - what it is," up to the comment's first empty line
  set(what "")
  if(head MATCHES "\\* ${rel} - ([^\n]*(\n \\* [^\n]+)*)")
    string(REGEX REPLACE "\n \\* " " " what "${CMAKE_MATCH_1}")
  endif()
  string(REPLACE "-" "\\-" what "${what}")
  string(APPEND HOLLOW_MAN_HEADERS ".TP\n.I <${rel}>\n${what}\n")
endforeach()
configure_file(docs/libhollow.3.in ${CMAKE_CURRENT_BINARY_DIR}/libhollow.3 @ONLY)
set(HOLLOW_MAN3 ${CMAKE_CURRENT_BINARY_DIR}/libhollow.3)
if(HOLLOW_DEB)
  execute_process(COMMAND gzip -9nkf ${HOLLOW_MAN3} COMMAND_ERROR_IS_FATAL ANY)
  set(HOLLOW_MAN3 ${HOLLOW_MAN3}.gz)
endif()
install(FILES ${HOLLOW_MAN3} DESTINATION ${CMAKE_INSTALL_MANDIR}/man3 COMPONENT dev)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT dev
        FILES_MATCHING PATTERN "*.md")
install(FILES examples/producer_consumer.c examples/read_titles.c
              examples/dist_producer.c
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT dev)

if(TARGET hollow-cli)
  # hollow-cli(1) and the completion come from the built tool's help text
  set(HOLLOW_CLI_DOCS ${CMAKE_CURRENT_BINARY_DIR}/cli-docs)
  set(HOLLOW_MAN1 ${HOLLOW_CLI_DOCS}/hollow-cli.1)
  set(bench_args "")
  if(TARGET hollow-bench) # hollow-bench(1) from hollow-bench --help
    list(APPEND HOLLOW_MAN1 ${HOLLOW_CLI_DOCS}/hollow-bench.1)
    set(bench_args $<TARGET_FILE:hollow-bench>)
  endif()
  add_custom_command(
    OUTPUT ${HOLLOW_MAN1} ${HOLLOW_CLI_DOCS}/hollow-cli.bash
    COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/gen-cli-docs.sh
            $<TARGET_FILE:hollow-cli> ${HOLLOW_CLI_DOCS} ${bench_args}
    DEPENDS hollow-cli ${bench_args} ${PROJECT_SOURCE_DIR}/scripts/gen-cli-docs.sh
    COMMENT "hollow-cli(1), its bash completion and hollow-bench(1) from their --help"
    VERBATIM)
  if(HOLLOW_DEB)
    set(gz "")
    foreach(page ${HOLLOW_MAN1})
      add_custom_command(OUTPUT ${page}.gz
        COMMAND gzip -9nkf ${page} DEPENDS ${page} VERBATIM)
      list(APPEND gz ${page}.gz)
    endforeach()
    set(HOLLOW_MAN1 ${gz})
  endif()
  add_custom_target(hollow-cli-docs ALL DEPENDS ${HOLLOW_MAN1}
                    ${HOLLOW_CLI_DOCS}/hollow-cli.bash)
  install(TARGETS hollow-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT cli)
  install(FILES ${HOLLOW_MAN1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT cli)
  install(FILES ${HOLLOW_CLI_DOCS}/hollow-cli.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME hollow-cli COMPONENT cli)
endif()
if(TARGET hollow-bench)
  install(TARGETS hollow-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT cli)
endif()

include(cmake/package-deb.cmake)
