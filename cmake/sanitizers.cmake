# HOLLOW_SANITIZE=address,undefined | thread: instrument everything we build.
if(HOLLOW_SANITIZE)
  add_compile_options(-fsanitize=${HOLLOW_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${HOLLOW_SANITIZE})
endif()
