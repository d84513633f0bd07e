<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-paused-extensions-storage.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-paused-extensions-storage.php';
