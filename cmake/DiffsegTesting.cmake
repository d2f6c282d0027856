# Test helpers. Every test is a QtTest executable registered with CTest and labelled:
#   unit     engine tests, no display
#   widgets  Qt widget tests (need a display: run under Xvfb)
#   render   rendered images compared with baselines (need a display with GLX)
#   cli      tests that run the diffseg executable
#   slow     longer tests (training, sampling); still part of the suite

set(DIFFSEG_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" CACHE PATH
  "Folder with the shared test data (data/, parity/); tests that need it skip when it is absent")
set(DIFFSEG_BASELINE_DIR "${PROJECT_SOURCE_DIR}/tests/baselines")
set(DIFFSEG_TEST_OUTPUT_DIR "${PROJECT_BINARY_DIR}/Testing/Temporary")
file(MAKE_DIRECTORY "${DIFFSEG_TEST_OUTPUT_DIR}")

# GUI tests get a display: the one already set, or a private Xvfb (24-bit, GLX).
set(DIFFSEG_DISPLAY_WRAPPER "${PROJECT_SOURCE_DIR}/tests/with-display.sh")
set(DIFFSEG_GUI_TEST_ENV
  "QT_QPA_PLATFORM=xcb" "QT_XCB_GL_INTEGRATION=xcb_glx" "LIBGL_ALWAYS_SOFTWARE=1"
  "QT_ENABLE_HIGHDPI_SCALING=0" "QT_SCALE_FACTOR=1" "QT_LOGGING_RULES=qt.qpa.*=false"
  "XDG_RUNTIME_DIR=${PROJECT_BINARY_DIR}/Testing/xdg")
file(MAKE_DIRECTORY "${PROJECT_BINARY_DIR}/Testing/xdg")

# diffseg_add_test(NAME <name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>]
#                  [GUI] [TIMEOUT <s>] [ARGS <args...>] [ENV <VAR=value...>])
function(diffseg_add_test)
  cmake_parse_arguments(T "GUI" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS;ENV" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  diffseg_target_defaults(${T_NAME})
  set_target_properties(${T_NAME} PROPERTIES AUTOMOC ON)
  target_link_libraries(${T_NAME} PRIVATE diffseg_test_support Qt6::Test ${T_LIBS})
  if(T_GUI)
    add_test(NAME ${T_NAME} COMMAND ${DIFFSEG_DISPLAY_WRAPPER} $<TARGET_FILE:${T_NAME}> ${T_ARGS})
    set(env ${DIFFSEG_GUI_TEST_ENV})
  else()
    add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
    set(env "QT_QPA_PLATFORM=offscreen")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # ctest runs tests side by side on few cores: OpenMP threads that spin while they wait for a
  # descheduled peer make LibTorch 2-5x slower there, so they sleep instead.
  list(APPEND env "DIFFSEG_SHARED_DIR=${DIFFSEG_SHARED_DIR}"
    "DIFFSEG_BASELINE_DIR=${DIFFSEG_BASELINE_DIR}" "DIFFSEG_TEST_OUTPUT_DIR=${DIFFSEG_TEST_OUTPUT_DIR}"
    "DIFFSEG_BINARY_DIR=${PROJECT_BINARY_DIR}" "OMP_NUM_THREADS=2" "OMP_WAIT_POLICY=PASSIVE"
    ${T_ENV})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "${env}")
endfunction()
