# Compiler settings shared by every target of ours: warnings, ccache, visibility.

if(DIFFSEG_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(DIFFSEG_CCACHE ccache)
  if(DIFFSEG_CCACHE)
    set(CMAKE_C_COMPILER_LAUNCHER "${DIFFSEG_CCACHE}")
    set(CMAKE_CXX_COMPILER_LAUNCHER "${DIFFSEG_CCACHE}")
  endif()
endif()

# diffseg_target_defaults(<target>): warnings for our own sources; dependencies' headers are
# included as SYSTEM so that their warnings never fail our build.
function(diffseg_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_17)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
      -Woverloaded-virtual -Wno-unused-parameter)
    if(DIFFSEG_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  # Qt's `slots`/`emit` keywords break LibTorch's and TBB's headers.
  target_compile_definitions(${target} PRIVATE QT_NO_KEYWORDS)
endfunction()
