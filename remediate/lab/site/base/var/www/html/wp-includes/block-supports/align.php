<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/align.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/align.php';
