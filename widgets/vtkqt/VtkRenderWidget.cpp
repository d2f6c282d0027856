#include "VtkRenderWidget.h"

#include "vtkDiffsegRenderWindow.h"

#include <QCursor>
#include <QEnterEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QOpenGLFunctions>
#include <QTimer>
#include <QWheelEvent>

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkRenderWindow.h>

#include <cmath>

namespace diffseg::widgets {

namespace {

/// Routes VTK events to member functions of the (non-VTK) widget.
template <class Fn>
void observe(vtkObject* subject, unsigned long event, Fn fn)
{
    auto* command = vtkCallbackCommand::New();
    auto* holder = new Fn(std::move(fn));
    command->SetClientData(holder);
    command->SetCallback([](vtkObject*, unsigned long, void* clientData, void* callData) {
        (*static_cast<Fn*>(clientData))(callData);
    });
    command->SetClientDataDeleteCallback(
        [](void* clientData) { delete static_cast<Fn*>(clientData); });
    subject->AddObserver(event, command);
    command->Delete();
}

/// VTK key symbols for the keys interactor styles use; printable keys use their character.
const char* keySym(int key)
{
    switch (key) {
    case Qt::Key_Left:
        return "Left";
    case Qt::Key_Right:
        return "Right";
    case Qt::Key_Up:
        return "Up";
    case Qt::Key_Down:
        return "Down";
    case Qt::Key_PageUp:
        return "Prior";
    case Qt::Key_PageDown:
        return "Next";
    case Qt::Key_Home:
        return "Home";
    case Qt::Key_End:
        return "End";
    case Qt::Key_Return:
    case Qt::Key_Enter:
        return "Return";
    case Qt::Key_Escape:
        return "Escape";
    case Qt::Key_Delete:
        return "Delete";
    case Qt::Key_Backspace:
        return "BackSpace";
    case Qt::Key_Tab:
        return "Tab";
    case Qt::Key_Space:
        return "space";
    case Qt::Key_Shift:
        return "Shift_L";
    case Qt::Key_Control:
        return "Control_L";
    case Qt::Key_Alt:
        return "Alt_L";
    default:
        return nullptr;
    }
}

Qt::CursorShape qtCursor(int vtkCursor)
{
    switch (vtkCursor) {
    case VTK_CURSOR_SIZENE:
    case VTK_CURSOR_SIZESW:
        return Qt::SizeBDiagCursor;
    case VTK_CURSOR_SIZENW:
    case VTK_CURSOR_SIZESE:
        return Qt::SizeFDiagCursor;
    case VTK_CURSOR_SIZENS:
        return Qt::SizeVerCursor;
    case VTK_CURSOR_SIZEWE:
        return Qt::SizeHorCursor;
    case VTK_CURSOR_SIZEALL:
        return Qt::SizeAllCursor;
    case VTK_CURSOR_HAND:
        return Qt::PointingHandCursor;
    case VTK_CURSOR_CROSSHAIR:
        return Qt::CrossCursor;
    default:
        return Qt::ArrowCursor;
    }
}

} // namespace

//------------------------------------------------------------------------------------------------
VtkRenderWidget::VtkRenderWidget(QWidget* parent)
    : QOpenGLWidget(parent)
    , m_window(vtkSmartPointer<vtkDiffsegRenderWindow>::New())
    , m_interactor(vtkSmartPointer<vtkGenericRenderWindowInteractor>::New())
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setUpdateBehavior(QOpenGLWidget::NoPartialUpdate);
    setMinimumSize(32, 32);

    // Nothing may render before initializeGL has made a context current.
    m_window->SetReadyForRendering(false);
    m_window->SetFrameBlitModeToNoBlit();
    m_window->SetOwnContext(false);
    m_window->SetMultiSamples(0);
    m_window->SetUseOffScreenBuffers(false);

    m_interactor->SetRenderWindow(m_window);
    auto style = vtkSmartPointer<vtkInteractorStyleTrackballCamera>::New();
    m_interactor->SetInteractorStyle(style);
    // Interaction only asks for a frame; the frame itself is rendered in paintGL.
    m_interactor->EnableRenderOff();
    m_interactor->SetTimerEventResetsTimer(false);

    observe(m_interactor, vtkCommand::RenderEvent, [this](void*) { requestRender(); });
    observe(m_interactor, vtkCommand::CreateTimerEvent, [this](void* d) { onCreateTimer(d); });
    observe(m_interactor, vtkCommand::DestroyTimerEvent, [this](void* d) { onDestroyTimer(d); });
    observe(m_window, vtkCommand::WindowMakeCurrentEvent, [this](void*) { onMakeCurrent(); });
    observe(m_window, vtkCommand::WindowIsCurrentEvent, [this](void* d) { onIsCurrent(d); });
    observe(m_window, vtkCommand::WindowFrameEvent, [this](void*) { onFrame(); });
    observe(m_window, vtkCommand::WindowSupportsOpenGLEvent,
            [](void* d) { *static_cast<int*>(d) = 1; });
    observe(m_window, vtkCommand::WindowIsDirectEvent, [](void* d) { *static_cast<int*>(d) = 1; });
    observe(m_window, vtkCommand::CursorChangedEvent, [this](void*) { onCursorChanged(); });

    m_interactor->Initialize();
    m_interactor->Enable();

    // resized() also fires when the widget moves to a screen with another pixel ratio.
    connect(this, &QOpenGLWidget::resized, this, [this] {
        updateSizes();
        requestRender();
    });
}

//------------------------------------------------------------------------------------------------
VtkRenderWidget::~VtkRenderWidget()
{
    qDeleteAll(m_timers);
    m_timers.clear();
    releaseContext();
    // Observers capture `this`; the window and interactor may outlive us through other owners.
    m_interactor->RemoveAllObservers();
    m_window->RemoveAllObservers();
    m_interactor->SetRenderWindow(nullptr);
}

vtkRenderWindow* VtkRenderWidget::renderWindow() const
{
    return m_window;
}

vtkRenderWindowInteractor* VtkRenderWidget::interactor() const
{
    return m_interactor;
}

void VtkRenderWidget::requestRender()
{
    m_dirty = true;
    if (!m_inPaint) {
        update();
    }
}

bool VtkRenderWidget::isSoftwareRenderer() const
{
    return m_glInfo.contains(QLatin1String("llvmpipe"), Qt::CaseInsensitive) ||
           m_glInfo.contains(QLatin1String("softpipe"), Qt::CaseInsensitive) ||
           m_glInfo.contains(QLatin1String("software"), Qt::CaseInsensitive);
}

//------------------------------------------------------------------------------------------------
void VtkRenderWidget::initializeGL()
{
    // Qt destroys the context on re-parenting; VTK must drop its GL objects before that.
    connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &VtkRenderWidget::releaseContext,
            Qt::ConnectionType(Qt::DirectConnection | Qt::UniqueConnection));

    QOpenGLFunctions* f = context()->functions();
    auto glString = [f](GLenum name) {
        const auto* s = reinterpret_cast<const char*>(f->glGetString(name));
        return s ? QString::fromLatin1(s) : QStringLiteral("?");
    };
    m_glInfo = glString(GL_VENDOR) + QStringLiteral(" | ") + glString(GL_RENDERER) +
               QStringLiteral(" | ") + glString(GL_VERSION);

    m_window->SetOwnContext(false);
    m_window->SetForceMaximumHardwareLineWidth(1);
    m_window->SetReadyForRendering(true);
    m_window->SetMapped(1);
    m_window->OpenGLInitContext();
    m_window->GetState()->Reset();
    // Qt leaves GL_LESS; VTK's passes assume GL_LEQUAL.
    m_window->GetState()->vtkglDepthFunc(GL_LEQUAL);
    updateSizes();

    ++m_initializeCount;
    if (!m_window->IsOpenGLInitialized()) {
        m_contextReady = false;
        m_window->SetReadyForRendering(false);
        qWarning("VtkRenderWidget: VTK could not initialise OpenGL (%s)", qPrintable(m_glInfo));
        Q_EMIT glFailed(
            tr("The 3D view needs OpenGL 3.2 through GLX; this display offers: %1").arg(m_glInfo));
        return;
    }
    m_contextReady = true;
    m_dirty = true;
    Q_EMIT glInitialized();
}

void VtkRenderWidget::resizeGL(int, int)
{
    updateSizes();
    m_dirty = true;
}

void VtkRenderWidget::updateSizes()
{
    const double dpr = devicePixelRatioF();
    const int w = static_cast<int>(std::lround(width() * dpr));
    const int h = static_cast<int>(std::lround(height() * dpr));
    // The interactor's size drives the Y flip of event positions: it must be device pixels too.
    m_interactor->UpdateSize(w, h);
    m_window->SetSize(w, h);
    m_window->SetDPI(static_cast<int>(std::lround(72 * dpr)));
}

//------------------------------------------------------------------------------------------------
void VtkRenderWidget::paintGL()
{
    const double dpr = devicePixelRatioF();
    const int w = static_cast<int>(std::lround(width() * dpr));
    const int h = static_cast<int>(std::lround(height() * dpr));
    if (!m_contextReady || w <= 0 || h <= 0) {
        return;
    }
    m_inPaint = true;
    vtkOpenGLState* state = m_window->GetState();
    // Qt changes GL state behind VTK's cache: start from the real state, restore it after.
    state->Reset();
    state->Push();
    state->vtkglDepthFunc(GL_LEQUAL);
    if (m_dirty) {
        m_dirty = false;
        m_window->Render();
        ++m_renderCount;
    }

    // A render can make another context current (e.g. progress painting elsewhere).
    makeCurrent();
    // Bind Qt's framebuffer with raw GL (VTK's cache would skip a binding it believes current),
    // then tell VTK's state cache what is bound now.
    QOpenGLExtraFunctions* f = context()->extraFunctions();
    f->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
    const GLenum attachment = GL_COLOR_ATTACHMENT0;
    f->glDrawBuffers(1, &attachment);
    state->ResetFramebufferBindings();
    state->vtkglDisable(GL_SCISSOR_TEST);
    f->glDisable(GL_SCISSOR_TEST);
    int last[2] = {w, h};
    if (vtkOpenGLFramebufferObject* fbo = m_window->GetDisplayFramebuffer()) {
        fbo->GetLastSize(last);
    }
    m_window->BlitDisplayFramebuffer(0, 0, 0, last[0], last[1], 0, 0, w, h, GL_COLOR_BUFFER_BIT,
                                     GL_LINEAR);
    // Opaque alpha, or the window compositor shows the view washed out on Mesa.
    state->vtkglColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
    state->vtkglClearColor(0.0f, 0.0f, 0.0f, 1.0f);
    state->vtkglClear(GL_COLOR_BUFFER_BIT);
    state->vtkglColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    state->Pop();
    m_inPaint = false;
    Q_EMIT frameRendered();
}

void VtkRenderWidget::releaseContext()
{
    if (!m_contextReady) {
        return;
    }
    makeCurrent();
    m_window->Finalize();
    m_window->SetReadyForRendering(false);
    doneCurrent();
    m_contextReady = false;
    m_dirty = true;
}

//------------------------------------------------------------------------------------------------
void VtkRenderWidget::onMakeCurrent()
{
    // Only the context, never QOpenGLWidget::makeCurrent(): that also binds Qt's framebuffer
    // behind VTK's state cache, and VTK calls MakeCurrent while it builds its own framebuffers,
    // whose attachments would then land on Qt's framebuffer (black or corrupt views).
    QOpenGLContext* ctx = context();
    if (ctx && QOpenGLContext::currentContext() != ctx) {
        ctx->makeCurrent(ctx->surface());
    }
}

void VtkRenderWidget::onIsCurrent(void* callData)
{
    *static_cast<bool*>(callData) = context() && QOpenGLContext::currentContext() == context();
}

void VtkRenderWidget::onFrame()
{
    // VTK rendered outside paintGL (e.g. an image export): show that frame.
    if (!m_inPaint) {
        update();
    }
}

void VtkRenderWidget::onCursorChanged()
{
    setCursor(qtCursor(m_window->GetCurrentCursor()));
}

void VtkRenderWidget::onCreateTimer(void* callData)
{
    const int vtkTimerId = *static_cast<int*>(callData);
    const int platformId = m_nextTimerId++;
    const bool oneShot = m_interactor->IsOneShotTimer(vtkTimerId) != 0;
    auto* timer = new QTimer(this);
    timer->setInterval(static_cast<int>(m_interactor->GetTimerEventDuration()));
    connect(timer, &QTimer::timeout, this, [this, vtkTimerId, oneShot] {
        int id = vtkTimerId;
        m_interactor->InvokeEvent(vtkCommand::TimerEvent, &id);
        if (oneShot) {
            m_interactor->DestroyTimer(id);
        }
    });
    m_timers.insert(platformId, timer);
    m_interactor->SetTimerEventPlatformId(platformId);
    timer->start();
}

void VtkRenderWidget::onDestroyTimer(void* callData)
{
    const int platformId = *static_cast<int*>(callData);
    if (QTimer* timer = m_timers.take(platformId)) {
        timer->stop();
        timer->deleteLater();
    }
}

//------------------------------------------------------------------------------------------------
bool VtkRenderWidget::event(QEvent* e)
{
    switch (e->type()) {
    case QEvent::MouseButtonPress:
    case QEvent::MouseButtonRelease:
    case QEvent::MouseButtonDblClick:
    case QEvent::MouseMove:
        forwardMouse(e);
        break;
    case QEvent::Wheel:
        forwardWheel(e);
        break;
    case QEvent::KeyPress:
    case QEvent::KeyRelease:
        forwardKey(e);
        break;
    case QEvent::Enter:
        m_interactor->InvokeEvent(vtkCommand::EnterEvent);
        break;
    case QEvent::Leave:
        m_interactor->InvokeEvent(vtkCommand::LeaveEvent);
        break;
    default:
        break;
    }
    return QOpenGLWidget::event(e);
}

bool VtkRenderWidget::forwardMouse(QEvent* e)
{
    auto* me = static_cast<QMouseEvent*>(e);
    const double dpr = devicePixelRatioF();
    const QPointF p = me->position();
    const Qt::KeyboardModifiers mods = me->modifiers();
    const bool repeat = e->type() == QEvent::MouseButtonDblClick;
    m_interactor->SetEventInformationFlipY(static_cast<int>(std::lround(p.x() * dpr)),
                                           static_cast<int>(std::lround(p.y() * dpr)),
                                           (mods & Qt::ControlModifier) ? 1 : 0,
                                           (mods & Qt::ShiftModifier) ? 1 : 0, 0, repeat ? 1 : 0);
    m_interactor->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);

    if (e->type() == QEvent::MouseMove) {
        m_interactor->InvokeEvent(vtkCommand::MouseMoveEvent, me);
        return true;
    }
    const bool press = e->type() != QEvent::MouseButtonRelease;
    unsigned long event = 0;
    switch (me->button()) {
    case Qt::LeftButton:
        event = press ? vtkCommand::LeftButtonPressEvent : vtkCommand::LeftButtonReleaseEvent;
        break;
    case Qt::MiddleButton:
        event = press ? vtkCommand::MiddleButtonPressEvent : vtkCommand::MiddleButtonReleaseEvent;
        break;
    case Qt::RightButton:
        event = press ? vtkCommand::RightButtonPressEvent : vtkCommand::RightButtonReleaseEvent;
        break;
    default:
        return false;
    }
    m_interactor->InvokeEvent(event, me);
    return true;
}

bool VtkRenderWidget::forwardWheel(QEvent* e)
{
    auto* we = static_cast<QWheelEvent*>(e);
    const double dpr = devicePixelRatioF();
    const QPointF p = we->position();
    const Qt::KeyboardModifiers mods = we->modifiers();
    m_interactor->SetEventInformationFlipY(
        static_cast<int>(std::lround(p.x() * dpr)), static_cast<int>(std::lround(p.y() * dpr)),
        (mods & Qt::ControlModifier) ? 1 : 0, (mods & Qt::ShiftModifier) ? 1 : 0);
    m_interactor->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    // Trackpads send many small deltas: accumulate to whole notches (120 units) before zooming.
    m_wheelAccumulator += we->angleDelta().y();
    while (std::abs(m_wheelAccumulator) >= 120.0) {
        const bool forward = m_wheelAccumulator > 0;
        m_interactor->InvokeEvent(
            forward ? vtkCommand::MouseWheelForwardEvent : vtkCommand::MouseWheelBackwardEvent, we);
        m_wheelAccumulator -= forward ? 120.0 : -120.0;
    }
    return true;
}

bool VtkRenderWidget::forwardKey(QEvent* e)
{
    auto* ke = static_cast<QKeyEvent*>(e);
    const Qt::KeyboardModifiers mods = ke->modifiers();
    const QString text = ke->text();
    const char ascii = (text.size() == 1 && text.at(0).unicode() < 128)
                           ? static_cast<char>(text.at(0).unicode())
                           : 0;
    const char* sym = keySym(ke->key());
    char symBuffer[2] = {ascii, 0};
    if (!sym && ascii >= 32) {
        sym = symBuffer;
    }
    m_interactor->SetKeyEventInformation((mods & Qt::ControlModifier) ? 1 : 0,
                                         (mods & Qt::ShiftModifier) ? 1 : 0, ascii, ke->count(),
                                         sym ? sym : "");
    m_interactor->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    if (e->type() == QEvent::KeyPress) {
        m_interactor->InvokeEvent(vtkCommand::KeyPressEvent, ke);
        // VTK styles act on CharEvent (e.g. 'r' resets the camera); only for ASCII keys.
        if (ascii) {
            m_interactor->InvokeEvent(vtkCommand::CharEvent, ke);
        }
    } else {
        m_interactor->InvokeEvent(vtkCommand::KeyReleaseEvent, ke);
    }
    return true;
}

} // namespace diffseg::widgets
