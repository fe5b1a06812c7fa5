# Warning flags of style.md B11; HOLLOW_WERROR turns them into errors.
function(hollow_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
      -Wmissing-prototypes -Wvla -Wformat=2 -Wimplicit-fallthrough>
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
  if(HOLLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
