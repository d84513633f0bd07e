<?php
/**
 * WordPress-like lab stub for wp-includes/html-api/class-wp-html-processor.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'html-api/class-wp-html-processor.php';
