<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-oembed-controller.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-oembed-controller.php';
