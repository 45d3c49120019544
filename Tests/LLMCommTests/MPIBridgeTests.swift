import XCTest
import CMPI
@testable import LLMComm

/// The C shim and the singleton path: the test process is not under mpirun, so MPI starts as a
/// singleton of world size 1 — the same path as the trainer's single-process debug mode.
final class MPIBridgeTests: XCTestCase {
    func testShimHandlesAreUsable() throws {
        _ = try MPICommunicator.world()
        XCTAssertNotNil(cmpi_comm_world())
        XCTAssertNotNil(cmpi_in_place())
        var size: Int32 = 0
        XCTAssertEqual(MPI_Type_size(cmpi_float(), &size), MPI_SUCCESS)
        XCTAssertEqual(size, 4)
        XCTAssertEqual(MPI_Type_size(cmpi_double(), &size), MPI_SUCCESS)
        XCTAssertEqual(size, 8)
        XCTAssertEqual(MPI_Type_size(cmpi_int64(), &size), MPI_SUCCESS)
        XCTAssertEqual(size, 8)
    }

    /// The op and type handles do real arithmetic even at world size 1: MPI_Reduce_local applies
    /// the op to two local buffers (inout = in op inout), which an all-reduce of one rank skips.
    func testShimOpsComputeThroughMPI() throws {
        _ = try MPICommunicator.world()
        func reduce(_ a: [Float], _ b: [Float], _ op: MPI_Op) -> [Float] {
            var inout_ = b
            let rc = a.withUnsafeBufferPointer { input in
                inout_.withUnsafeMutableBufferPointer {
                    MPI_Reduce_local(input.baseAddress, $0.baseAddress, Int32(a.count), cmpi_float(), op)
                }
            }
            XCTAssertEqual(rc, MPI_SUCCESS)
            return inout_
        }
        XCTAssertEqual(reduce([1, -2, 3], [4, 5, -6], cmpi_op_sum()), [5, 3, -3])
        XCTAssertEqual(reduce([1, -2, 3], [4, 5, -6], cmpi_op_max()), [4, 5, 3])
        XCTAssertEqual(reduce([1, -2, 3], [4, 5, -6], cmpi_op_min()), [1, -2, -6])
        var doubles = [0.25, 1e300]
        let rc = [0.5, 1e300].withUnsafeBufferPointer { input in
            doubles.withUnsafeMutableBufferPointer {
                MPI_Reduce_local(input.baseAddress, $0.baseAddress, 2, cmpi_double(), cmpi_op_sum())
            }
        }
        XCTAssertEqual(rc, MPI_SUCCESS)
        XCTAssertEqual(doubles, [0.75, 2e300], "doubles must not pass through a float type")
    }

    func testSingletonWorld() throws {
        let world = try MPICommunicator.world()
        XCTAssertTrue(world === (try MPICommunicator.world()), "MPI must be initialised once per process")
        XCTAssertEqual(world.rank, 0)
        XCTAssertEqual(world.worldSize, 1)
        XCTAssertTrue(world.isCoordinator)
    }

    func testSingletonCollectivesAreIdentity() throws {
        let world = try MPICommunicator.world()
        var floats: [Float] = [1.5, 2.5, -3]
        try floats.withUnsafeMutableBufferPointer { try world.allReduce($0, .average) }
        XCTAssertEqual(floats, [1.5, 2.5, -3])
        XCTAssertEqual(try world.allReduce([4, 5], .sum), [4, 5])
        XCTAssertEqual(try world.allGather([7, 8]), [7, 8])
        XCTAssertNil(try world.sharedFloats(count: 10), "a world of one rank has nobody to share memory with")
        XCTAssertEqual(try world.broadcast(Array("hi".utf8), root: 0), Array("hi".utf8))
        try world.barrier()
    }

    /// The room a shared-memory window needs is read with statvfs: it must agree with what
    /// Foundation reports for the same file system, and be 0 where there is no such directory.
    func testFreeBytesOfTheSharedMemoryDirectory() throws {
        let directory = MPICommunicator.sharedMemoryDirectory
        let reported = try XCTUnwrap(try FileManager.default.attributesOfFileSystem(forPath: directory)[.systemFreeSize]
                                     as? NSNumber).doubleValue
        let free = MPICommunicator.freeBytes(at: directory)
        XCTAssertGreaterThan(free, 0)
        XCTAssertEqual(free, reported, accuracy: max(reported * 0.01, Double(1 << 20)), "statvfs against Foundation for \(directory)")
        XCTAssertEqual(MPICommunicator.freeBytes(at: "/no/such/directory"), 0)
    }

    func testMPIErrorsBecomeSwiftErrorsNamingRankAndCall() throws {
        let world = try MPICommunicator.world()
        var bytes = [UInt8](repeating: 1, count: 4)
        // Root 5 does not exist in a world of one: MPI returns an error instead of aborting.
        XCTAssertThrowsError(try bytes.withUnsafeMutableBytes { try world.broadcast($0, root: 5) }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("rank 0"), text)
            XCTAssertTrue(text.contains("MPI_Bcast"), text)
        }
    }
}
