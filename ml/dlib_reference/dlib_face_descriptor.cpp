// dlib's own face descriptor and 5-point alignment: the reference that ml/dlib_reference/verify.py
// checks the ONNX conversion (ml/convert_dlib_resnet.py) against. Needs Debian libdlib-dev (19.24):
//   g++ -O2 -std=c++14 dlib_face_descriptor.cpp -o dlib_face_descriptor -ldlib -lpthread \
//       /lib/x86_64-linux-gnu/libblas.so.3 /lib/x86_64-linux-gnu/liblapack.so.3
// The network type is copied from dlib's examples/dnn_face_recognition_ex.cpp.
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_transforms.h>
#include <fstream>
#include <iostream>
using namespace dlib;
using namespace std;
template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual = add_prev1<block<N,BN,1,tag1<SUBNET>>>;
template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,BN,2,tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block  = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>;
template <int N, typename SUBNET> using ares      = relu<residual<block,N,affine,SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block,N,affine,SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256,SUBNET>;
template <typename SUBNET> using alevel1 = ares<256,ares<256,ares_down<256,SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128,ares<128,ares_down<128,SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64,ares<64,ares<64,ares_down<64,SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32,ares<32,ares<32,SUBNET>>>;
using anet_type = loss_metric<fc_no_bias<128,avg_pool_everything<
                            alevel0<alevel1<alevel2<alevel3<alevel4<
                            max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,
                            input_rgb_image_sized<150>>>>>>>>>>>>>;

static matrix<rgb_pixel> read_rgb(const char* path, long w, long h) {
  matrix<rgb_pixel> img(h, w);
  ifstream f(path, ios::binary);
  for (long r = 0; r < h; ++r) for (long c = 0; c < w; ++c) {
    unsigned char p[3]; f.read((char*)p, 3);
    img(r, c) = rgb_pixel(p[0], p[1], p[2]);
  }
  if (!f) throw runtime_error("short read");
  return img;
}
// usage: ref MODEL_DIR embed CHIP.rgb            (150x150 raw RGB) -> 128 floats
//        ref MODEL_DIR align IMG.rgb W H L T R B OUTCHIP.rgb  -> 5 points, chip written, 128 floats
//        ref MODEL_DIR xml OUT.xml
int main(int argc, char** argv) {
  string dir = argv[1], mode = argv[2];
  anet_type net;
  deserialize(dir + "/dlib_face_recognition_resnet_model_v1.dat") >> net;
  if (mode == "xml") { net_to_xml(net, argv[3]); return 0; }
  matrix<rgb_pixel> chip;
  if (mode == "embed") {
    chip = read_rgb(argv[3], 150, 150);
  } else {
    long w = atol(argv[4]), h = atol(argv[5]);
    auto img = read_rgb(argv[3], w, h);
    shape_predictor sp;
    deserialize(dir + "/shape_predictor_5_face_landmarks.dat") >> sp;
    rectangle box(atol(argv[6]), atol(argv[7]), atol(argv[8]), atol(argv[9]));
    auto shape = sp(img, box);
    cout << "points";
    for (unsigned i = 0; i < shape.num_parts(); ++i) cout << " " << shape.part(i).x() << " " << shape.part(i).y();
    cout << "\n";
    extract_image_chip(img, get_face_chip_details(shape, 150, 0.25), chip);
    ofstream o(argv[10], ios::binary);
    for (long r = 0; r < 150; ++r) for (long c = 0; c < 150; ++c) o.write((char*)&chip(r, c), 3);
  }
  matrix<float,0,1> d = net(chip);
  cout.precision(9);
  cout << "embedding";
  for (long i = 0; i < d.size(); ++i) cout << " " << d(i);
  cout << "\n";
}
