#include "MainWindow.h"

#include "base/SampleData.h"
#include "runtime/Runtime.h"
#include "views/ImageConversion.h"
#include "views/ImageView.h"
#include "views/VolumeView3D.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QImageReader>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QStatusBar>

#include <vtkVersion.h>

namespace diffseg::app {

namespace {
constexpr int kSampleImageSize = 512;
constexpr int kSampleVolumeSize = 96;
constexpr std::uint32_t kSampleSeed = 2024;
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
{
    setWindowTitle(tr("DiffSeg Studio"));
    setAcceptDrops(true);

    m_imageView = new widgets::ImageView(this);
    setCentralWidget(m_imageView);

    m_volumeView = new widgets::VolumeView3D(this);
    m_volumeDock = new QDockWidget(tr("3D view"), this);
    m_volumeDock->setObjectName(QStringLiteral("volumeDock"));
    m_volumeDock->setWidget(m_volumeView);
    m_volumeDock->setMinimumWidth(320);
    addDockWidget(Qt::RightDockWidgetArea, m_volumeDock);

    m_pixelLabel = new QLabel(this);
    m_glLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_pixelLabel);
    statusBar()->addPermanentWidget(m_glLabel);
    connect(m_imageView, &widgets::ImageView::cursorMoved, this, &MainWindow::showPixelInfo);
    connect(m_volumeView->renderWidget(), &widgets::VtkRenderWidget::glInitialized, this, [this] {
        const QString info = m_volumeView->renderWidget()->glInfo();
        m_glLabel->setText(info.section(QLatin1Char('|'), 1, 1).trimmed());
        m_glLabel->setToolTip(tr("OpenGL: %1").arg(info));
    });

    createMenus();
    resize(1280, 800);
    resizeDocks({m_volumeDock}, {460}, Qt::Horizontal);
    statusBar()->showMessage(tr("Ready"));
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open..."), this, &MainWindow::openWithDialog);
    open->setShortcut(QKeySequence::Open);
    open->setToolTip(tr("Open a dermoscopy image (PNG, JPEG, BMP, TIFF)"));
    file->addAction(tr("Open &sample data"), this, &MainWindow::openSamples)
        ->setToolTip(tr("A generated lesion image and CT phantom"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("Zoom &in"), QKeySequence::ZoomIn, m_imageView, &widgets::ImageView::zoomIn);
    view->addAction(tr("Zoom &out"), QKeySequence::ZoomOut, m_imageView,
                    &widgets::ImageView::zoomOut);
    view->addAction(tr("&Fit to window"), QKeySequence(Qt::CTRL | Qt::Key_0), m_imageView,
                    &widgets::ImageView::fitToWindow);
    view->addAction(tr("&Actual size"), QKeySequence(Qt::CTRL | Qt::Key_1), m_imageView,
                    &widgets::ImageView::actualSize);
    view->addSeparator();
    view->addAction(m_volumeDock->toggleViewAction());
    view->addAction(tr("&Reset 3D view"), m_volumeView, &widgets::VolumeView3D::resetView);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About DiffSeg Studio"), this, &MainWindow::showAbout);
}

void MainWindow::openWithDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open image"), QFileInfo(m_currentPath).absolutePath(),
        tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)"));
    if (!path.isEmpty()) {
        openPath(path);
    }
}

bool MainWindow::openPath(const QString& path, bool quiet)
{
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QImage image = reader.read();
    if (image.isNull()) {
        const QString why = QFileInfo::exists(path) ? reader.errorString() : tr("file not found");
        statusBar()->showMessage(tr("Could not open %1: %2").arg(path, why));
        if (!quiet) {
            QMessageBox::warning(
                this, tr("Cannot open file"),
                tr("<b>%1</b><br>%2").arg(path.toHtmlEscaped(), why.toHtmlEscaped()));
        }
        return false;
    }
    m_currentPath = path;
    m_imageView->setImage(image);
    setWindowTitle(tr("%1 - DiffSeg Studio").arg(QFileInfo(path).fileName()));
    statusBar()->showMessage(tr("Opened %1 (%2 x %3)")
                                 .arg(QFileInfo(path).fileName())
                                 .arg(image.width())
                                 .arg(image.height()));
    return true;
}

void MainWindow::openSamples()
{
    const core::SampleLesion lesion = core::makeSampleLesion(kSampleImageSize, kSampleSeed);
    m_imageView->setImage(widgets::toQImage(lesion.image));
    const core::SamplePhantom phantom =
        core::makeSamplePhantom(kSampleVolumeSize, 3.0, kSampleSeed);
    m_volumeView->setVolume(phantom.volume, true);
    m_currentPath.clear();
    setWindowTitle(tr("Sample lesion (generated) - DiffSeg Studio"));
    statusBar()->showMessage(
        tr("Showing generated sample data: a %1 px lesion image and a %2^3 CT phantom")
            .arg(kSampleImageSize)
            .arg(kSampleVolumeSize));
}

void MainWindow::showPixelInfo(const QPoint& pixel, bool inside)
{
    if (!inside) {
        m_pixelLabel->clear();
        return;
    }
    const QColor c = m_imageView->image().pixelColor(pixel);
    m_pixelLabel->setText(tr("x %1  y %2   RGB %3 %4 %5")
                              .arg(pixel.x())
                              .arg(pixel.y())
                              .arg(c.red())
                              .arg(c.green())
                              .arg(c.blue()));
}

QString MainWindow::aboutText()
{
    const core::LibraryVersions v = core::libraryVersions();
    const QString cuda =
        v.cudaAvailable
            ? tr("available (%1 device(s))").arg(v.cudaDeviceCount)
            : tr("not available: models run on the CPU (%1 threads)").arg(v.computeThreads);
    return tr("<h3>DiffSeg Studio %1</h3>"
              "<p>Diffusion-model segmentation of dermoscopy images and CT/MRI volumes, with "
              "reverse-diffusion step browsing and uncertainty overlays.</p>"
              "<table>"
              "<tr><td>Qt</td><td>%2</td></tr>"
              "<tr><td>VTK</td><td>%3</td></tr>"
              "<tr><td>ITK</td><td>%4</td></tr>"
              "<tr><td>LibTorch</td><td>%5</td></tr>"
              "<tr><td>OpenCV</td><td>%6</td></tr>"
              "<tr><td>CUDA</td><td>%7</td></tr>"
              "</table>")
        .arg(QString::fromStdString(v.diffseg), QString::fromLatin1(qVersion()),
             QString::fromLatin1(vtkVersion::GetVTKVersion()), QString::fromStdString(v.itk),
             QString::fromStdString(v.torch), QString::fromStdString(v.opencv), cuda);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About DiffSeg Studio"), aboutText());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e)
{
    if (e->mimeData()->hasUrls()) {
        e->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* e)
{
    const QList<QUrl> urls = e->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) {
        openPath(urls.first().toLocalFile());
        e->acceptProposedAction();
    }
}

} // namespace diffseg::app
